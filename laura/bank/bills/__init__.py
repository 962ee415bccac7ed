"""Boletos: reading and checking bank slips and utility bills, and paying them."""
