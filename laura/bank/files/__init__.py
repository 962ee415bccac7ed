"""Uploaded files: stored by content, read back by their owner (and by staff where a feature allows)."""
