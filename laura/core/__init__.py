"""Shared infrastructure with no business rules; every context may import it."""
