"""A purchase's category from its merchant category code (ISO 18245), by ranges as issuers group them for
spending analytics: the specific codes first, then the broad ranges, OTHER for the rest."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    FOOD = "FOOD"
    TRANSPORT = "TRANSPORT"
    LEISURE = "LEISURE"
    HEALTH = "HEALTH"
    SHOPPING = "SHOPPING"
    BILLS = "BILLS"
    EDUCATION = "EDUCATION"
    TRAVEL = "TRAVEL"
    OTHER = "OTHER"


_RANGES: tuple[tuple[int, int, Category], ...] = (
    # specific codes inside broader ranges
    (4111, 4131, Category.TRANSPORT),  # commuter transport, taxis and ride apps, buses
    (4784, 4789, Category.TRANSPORT),  # tolls, other transport
    (4812, 4816, Category.BILLS),  # telephone, telecom, internet
    (4899, 4899, Category.LEISURE),  # cable and streaming services
    (4900, 4900, Category.BILLS),  # electricity, gas, water
    (5122, 5122, Category.HEALTH),  # drugs and druggists' sundries
    (5411, 5499, Category.FOOD),  # supermarkets, butchers, bakeries, food stores
    (5541, 5542, Category.TRANSPORT),  # service stations, fuel dispensers
    (5811, 5814, Category.FOOD),  # caterers, restaurants, bars, fast food
    (5815, 5818, Category.LEISURE),  # digital goods: media, games, apps
    (5912, 5912, Category.HEALTH),  # drug stores and pharmacies
    (5975, 5976, Category.HEALTH),  # hearing aids, orthopaedic goods
    (7011, 7012, Category.TRAVEL),  # hotels, timeshares
    (7512, 7519, Category.TRAVEL),  # car and vehicle rental
    (7523, 7523, Category.TRANSPORT),  # parking
    (7832, 7841, Category.LEISURE),  # cinemas, video rental
    (6300, 6399, Category.BILLS),  # insurance
    (9311, 9399, Category.BILLS),  # taxes, government services
    # broad ranges
    (3000, 3999, Category.TRAVEL),  # airlines, car rental and hotel chains
    (4011, 4799, Category.TRAVEL),  # railways, cruises, airlines, travel agencies
    (5000, 5999, Category.SHOPPING),  # retail
    (7900, 7999, Category.LEISURE),  # amusement and recreation
    (8000, 8099, Category.HEALTH),  # doctors, dentists, hospitals, labs
    (8200, 8299, Category.EDUCATION),  # schools, colleges, courses
)


def category_of(mcc: str) -> Category:
    """The category of a 4-digit MCC; OTHER for a code no range holds."""
    code = int(mcc)
    for low, high, category in _RANGES:
        if low <= code <= high:
            return category
    return Category.OTHER
