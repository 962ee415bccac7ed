"""The platform's commission on a fare: a percentage (per category if configured), rounded half-up to the
cent; the driver gets the rest, so the two always add up to the fare."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from laura.settings import Settings


def commission_percent(settings: Settings, category: str) -> Decimal:
    return Decimal(
        settings.ride_commission_percent_by_category.get(category, settings.ride_commission_percent)
    )


def commission_cents(amount_cents: int, percent: Decimal) -> int:
    """`percent` of `amount_cents`, half-up to a whole cent."""
    return int((Decimal(amount_cents) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
