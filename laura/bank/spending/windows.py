"""The window a spending figure covers: whole Brasília days, first to last, and the half-open UTC instants
[start, end) the queries compare timestamps with. A period is counted in the customer's calendar (a
purchase at 23:30 in São Paulo on the 31st belongs to that month, though it is already the 1st in UTC)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from laura.bank.transfers.calendar import brasilia_day, day_start


class Period(StrEnum):
    """WEEKLY is the ISO week (Monday to Sunday), MONTHLY the calendar month, ANNUAL the calendar year, all
    around today; CUSTOM (analytics only) is the days asked for."""

    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    ANNUAL = "ANNUAL"
    CUSTOM = "CUSTOM"


@dataclass(frozen=True)
class Window:
    first_day: date
    last_day: date
    start: datetime
    end: datetime

    @classmethod
    def between(cls, first_day: date, last_day: date) -> Window:
        """The days first_day..last_day (both included); empty when last_day is before first_day."""
        end_day = max(last_day, first_day - timedelta(days=1)) + timedelta(days=1)
        return cls(first_day, last_day, day_start(first_day), day_start(end_day))

    @property
    def label(self) -> str:
        """The wire's `period`: "2026-01-01_2026-01-31"."""
        return f"{self.first_day.isoformat()}_{self.last_day.isoformat()}"

    def days(self) -> Iterator[date]:
        day = self.first_day
        while day <= self.last_day:
            yield day
            day += timedelta(days=1)


def _bounds(period: Period, today: date) -> tuple[date, date]:
    if period is Period.WEEKLY:
        monday = today - timedelta(days=today.weekday())
        return monday, monday + timedelta(days=6)
    if period is Period.MONTHLY:
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return first, following - timedelta(days=1)
    if period is Period.ANNUAL:
        return today.replace(month=1, day=1), today.replace(month=12, day=31)
    raise ValueError(f"{period} has no bounds of its own")


def period_window(
    period: Period, now_utc: datetime, *, start_date: date | None = None, end_date: date | None = None
) -> Window:
    """The period around `now_utc`'s Brasília day, clamped to [start_date, end_date] when given (a budget's
    dates). CUSTOM is exactly start_date..end_date, both required."""
    if period is Period.CUSTOM:
        if start_date is None or end_date is None:
            raise ValueError("a CUSTOM window needs start_date and end_date")
        return Window.between(start_date, end_date)
    first, last = _bounds(period, brasilia_day(now_utc))
    if start_date is not None:
        first = max(first, start_date)
    if end_date is not None:
        last = min(last, end_date)
    return Window.between(first, last)
