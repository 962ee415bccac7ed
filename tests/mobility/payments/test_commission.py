"""The commission is rounded half-up to the cent, per category when configured; the driver gets the rest."""

from __future__ import annotations

from decimal import Decimal

import pytest

from laura.mobility.payments.commission import commission_cents, commission_percent
from laura.settings import Settings


@pytest.mark.parametrize(
    ("fare", "percent", "commission"),
    [
        (5000, "20", 1000),
        (1234, "20", 247),
        (1232, "20", 246),
        (1, "50", 1),
        (999, "0", 0),
        (999, "100", 999),
    ],
)
def test_the_commission_rounds_half_up_and_never_exceeds_the_fare(
    fare: int, percent: str, commission: int
) -> None:
    assert commission_cents(fare, Decimal(percent)) == commission
    assert 0 <= fare - commission <= fare


def test_a_category_override_wins_over_the_default() -> None:
    settings = Settings(
        _env_file=None,
        ride_commission_percent=Decimal(20),
        ride_commission_percent_by_category={"premium": 15},
    )

    assert commission_percent(settings, "premium") == Decimal(15)
    assert commission_percent(settings, "standard") == Decimal(20)
