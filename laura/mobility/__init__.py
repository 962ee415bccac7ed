"""Mobility context (Uber/99 style): passengers, drivers, vehicles, rides, matching, payments, payouts."""
