"""The payout rules' knobs, read once from settings (`driver_earnings_hold_hours`, `payout_*`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from laura.core.money import to_cents
from laura.settings import Settings


@dataclass(frozen=True)
class PayoutPolicy:
    earnings_hold: timedelta = timedelta(hours=24)
    min_cents: int = 1000
    daily_limit_cents: int = 500_000
    weekly_limit_cents: int = 2_000_000
    pix_key_change_delay: timedelta = timedelta(hours=24)
    timezone: str = "America/Sao_Paulo"

    @classmethod
    def from_settings(cls, settings: Settings) -> PayoutPolicy:
        return cls(
            earnings_hold=timedelta(hours=settings.driver_earnings_hold_hours),
            min_cents=_cents(settings.payout_min_amount),
            daily_limit_cents=_cents(settings.payout_daily_limit),
            weekly_limit_cents=_cents(settings.payout_weekly_limit),
            pix_key_change_delay=timedelta(hours=settings.payout_pix_key_change_delay_hours),
            timezone=settings.mobility_timezone,
        )


def _cents(amount: Decimal) -> int:
    return to_cents(amount.quantize(Decimal("0.01")))
