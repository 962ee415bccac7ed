"""The bank context: accounts, transfers, cards, bills, budgets, analytics and support."""
