"""Rides: the state machine, fares, surge and cancellation rules."""
