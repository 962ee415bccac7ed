"""Budgets: a spending cap per category and period, its summary, and alerts at its thresholds."""
