"""The vehicle categories a passenger can request; pricing, matching and vehicle rules key on them."""

from __future__ import annotations

from enum import StrEnum


class VehicleCategory(StrEnum):
    """A ride product. Values are the wire and database spelling (`vehicles.category`)."""

    STANDARD = "standard"
    COMFORT = "comfort"
    PREMIUM = "premium"
    XL = "xl"
