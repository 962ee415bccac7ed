"""Where a budget stands: its status and which thresholds its spending reached, compared as exact
integers (`spent * 100 >= threshold * limit`), never as rounded percentages, so 74.999% is not 75%."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

DEFAULT_THRESHOLDS = (50, 75, 90)


class BudgetStatus(StrEnum):
    SAFE = "SAFE"
    WARNING = "WARNING"
    DANGER = "DANGER"


def reached(spent_cents: int, limit_cents: int, threshold: int) -> bool:
    return spent_cents * 100 >= threshold * limit_cents


def reached_thresholds(spent_cents: int, limit_cents: int, thresholds: Sequence[int]) -> list[int]:
    return [t for t in thresholds if reached(spent_cents, limit_cents, t)]


def status_of(spent_cents: int, limit_cents: int, thresholds: Sequence[int]) -> BudgetStatus:
    """DANGER from the highest threshold or over the limit, WARNING from the second highest, else SAFE;
    with a single threshold there is no WARNING."""
    ordered = sorted(thresholds)
    if spent_cents > limit_cents or reached(spent_cents, limit_cents, ordered[-1]):
        return BudgetStatus.DANGER
    if len(ordered) > 1 and reached(spent_cents, limit_cents, ordered[-2]):
        return BudgetStatus.WARNING
    return BudgetStatus.SAFE


def percentage(spent_cents: int, limit_cents: int) -> Decimal:
    """Spent as a percentage of the limit with two decimals, rounded down: it never shows a threshold
    reached before it is (74.999% is 74.99)."""
    if limit_cents <= 0:
        return Decimal("0.00")
    return (Decimal(spent_cents * 100) / Decimal(limit_cents)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
