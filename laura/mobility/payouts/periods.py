"""Brasília's today, this week (from Monday) and this month as UTC instants: where earnings are summed and
payout limits counted. Computed from the local date, so a period always starts at a local midnight."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Periods:
    day: datetime
    week: datetime
    month: datetime


def periods(now: datetime, timezone: str) -> Periods:
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(), zone)

    return Periods(
        day=midnight(today),
        week=midnight(today - timedelta(days=today.weekday())),
        month=midnight(today.replace(day=1)),
    )
