"""Spending analytics for the customer's app (spec 4.3, 4.4): by category, by day, and a home-screen summary
of income against spending; all read from the spending layer, as budgets are."""
