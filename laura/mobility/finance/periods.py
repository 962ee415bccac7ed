"""The report's calendar: whole Brasília days (`LAURA_MOBILITY_TIMEZONE`), cut into days, ISO weeks (Monday to
Sunday) or calendar months. A ride paid at 23:30 in São Paulo on the 31st belongs to that month though it is
already the 1st in UTC, so the range's bounds are local midnights turned into UTC instants, and PostgreSQL
buckets each row by its local date (`date_trunc(unit, at AT TIME ZONE tz)`), which names the period by its
natural first day; the first and last periods are clamped to the range."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from laura.mobility.finance.errors import ReportRangeInvalid


class GroupBy(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


MAX_DAYS = {GroupBy.DAY: 366, GroupBy.WEEK: 3 * 366, GroupBy.MONTH: 5 * 366}
"""The longest range of each grouping, in days: a year of days, about three years of weeks, five of months."""


def natural_start(day: date, group_by: GroupBy) -> date:
    """The first day of the period `day` falls in (what PostgreSQL's date_trunc answers)."""
    if group_by is GroupBy.WEEK:
        return day - timedelta(days=day.weekday())
    if group_by is GroupBy.MONTH:
        return day.replace(day=1)
    return day


def _natural_end(start: date, group_by: GroupBy) -> date:
    if group_by is GroupBy.WEEK:
        return start + timedelta(days=6)
    if group_by is GroupBy.MONTH:
        return (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return start


@dataclass(frozen=True)
class Period:
    key: date
    """The period's natural first day: the bucket the query names it by."""
    first_day: date
    last_day: date


@dataclass(frozen=True)
class ReportWindow:
    first_day: date
    last_day: date
    group_by: GroupBy
    timezone: str

    @property
    def start(self) -> datetime:
        """The UTC instant the first day begins."""
        return self._midnight(self.first_day)

    @property
    def end(self) -> datetime:
        """The UTC instant the day after the last begins (the range is half-open)."""
        return self._midnight(self.last_day + timedelta(days=1))

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)

    def periods(self) -> Iterator[Period]:
        key = natural_start(self.first_day, self.group_by)
        while key <= self.last_day:
            yield Period(key, max(key, self.first_day), min(_natural_end(key, self.group_by), self.last_day))
            key = _natural_end(key, self.group_by) + timedelta(days=1)


def local_day(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def report_window(
    first: date | None, last: date | None, group_by: GroupBy, *, now: datetime, timezone: str
) -> ReportWindow:
    """The range asked for. Without `from`, the first day of `to`'s month (of this month without either);
    without `to`, today. Refused (422) when `to` is before `from` or the range is longer than the grouping's
    cap."""
    last_day = last or local_day(now, timezone)
    first_day = first or last_day.replace(day=1)
    if last_day < first_day:
        raise ReportRangeInvalid(
            "`to` must not be before `from`",
            details=[{"field": "to", "message": f"{last_day} is before from={first_day}"}],
        )
    days = (last_day - first_day).days + 1
    if days > MAX_DAYS[group_by]:
        raise ReportRangeInvalid(
            f"A report grouped by {group_by.value} covers at most {MAX_DAYS[group_by]} days; this one asks for {days}",
            details=[{"field": "to", "message": f"at most {MAX_DAYS[group_by]} days after from"}],
        )
    return ReportWindow(first_day, last_day, group_by, timezone)
