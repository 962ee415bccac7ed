"""Passengers, drivers and vehicles: registration rules and document checks."""
