"""Driver location reports: the current position for matching, the trail for fares, the live map for riders."""
