"""Driver money: the balance a driver may withdraw, their financials, and payouts by Pix."""
