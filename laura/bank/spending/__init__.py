"""What a customer spent, by category and by day, in a window: the one definition that budgets and
analytics both read, so they can never disagree."""
