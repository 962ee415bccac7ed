"""Checking accounts: one per customer, opened at registration, backed by a ledger LIABILITY account."""
