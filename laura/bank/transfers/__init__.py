"""Transfers out of an account: Pix, TED and internal P2P."""
