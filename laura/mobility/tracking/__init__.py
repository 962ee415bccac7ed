"""Driver location reports: current position for matching, trail for fares, live map for riders."""
