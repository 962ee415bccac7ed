"""Laura: a digital bank and a ride-hailing backend on one double-entry ledger."""

__version__ = "0.1.0"
