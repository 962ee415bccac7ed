"""Append-only, hash-chained audit log written inside the caller's transaction."""
