"""Banking days and transfer windows, in Brasília time.

TED settles through the Central Bank's STR only on banking days and inside the TED window, so a TED's
estimated delivery depends on the clock and the calendar. Pix runs around the clock, but the Central
Bank's night-time rule (Resolução BCB nº 142: 20:00 to 06:00 by default) caps what may be sent at
night, so the limit check needs to know whether it is night and when the current night began.

Banking days are weekdays that are not national holidays nor the bank holidays of the ANBIMA calendar
(Carnival Monday and Tuesday, Corpus Christi). The `holidays` package gives the dates; its "BR"
financial calendar is just the country's public holidays, so the two bank-only days are taken from
its optional category by name.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from holidays.constants import OPTIONAL

BRASILIA = ZoneInfo("America/Sao_Paulo")
TED_SETTLEMENT = timedelta(minutes=30)
PIX_NIGHT_START = time(20, 0)
PIX_NIGHT_END = time(6, 0)

_BANK_ONLY_HOLIDAYS = frozenset({"Carnival", "Corpus Christi"})


@functools.lru_cache(maxsize=32)
def _bank_holidays(year: int) -> frozenset[date]:
    public = holidays.Brazil(years=year)
    optional = holidays.Brazil(years=year, categories=OPTIONAL, language="en_US")
    bank_only = {day for day, name in optional.items() if name in _BANK_ONLY_HOLIDAYS}
    return frozenset(public) | bank_only


def _local(now_utc: datetime) -> datetime:
    if now_utc.tzinfo is None:
        raise ValueError("now_utc must be timezone-aware")
    return now_utc.astimezone(BRASILIA)


def _utc(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=BRASILIA).astimezone(UTC)


def brasilia_day(now_utc: datetime) -> date:
    """The Brasília date `now_utc` falls on: the customer's "today"."""
    return _local(now_utc).date()


def day_start(day: date) -> datetime:
    """Midnight of a Brasília day, in UTC: where the day's half-open window begins."""
    return _utc(day, time(0))


def day_and_month_starts(now_utc: datetime) -> tuple[datetime, datetime]:
    """Midnight of `now_utc`'s Brasília day and of the first of its month, in UTC: where "today" and "this
    month" count from (a card's spend and its limits)."""
    today = brasilia_day(now_utc)
    return day_start(today), day_start(today.replace(day=1))


def is_business_day(d: date) -> bool:
    """Whether banks settle on this day: a weekday that is no national or bank holiday."""
    return d.weekday() < 5 and d not in _bank_holidays(d.year)


def next_business_day(d: date) -> date:
    """The first banking day strictly after `d`."""
    day = d + timedelta(days=1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def ted_estimated_delivery(
    now_utc: datetime, *, window_close: time = time(17, 0), open_time: time = time(9, 0)
) -> datetime:
    """When a TED sent at `now_utc` should reach the other bank (UTC).

    Inside the window of a banking day (`open_time` <= Brasília time < `window_close`) it settles the
    same day: now plus `TED_SETTLEMENT` (30 min), but never after the window closes. Before the window
    opens on a banking day it waits for today's opening; after it closes, or on a weekend or holiday,
    for `open_time` of the next banking day (a Friday 18:00 TED lands Monday 09:00 BRT = 12:00Z).
    """
    local = _local(now_utc)
    today = local.date()
    if is_business_day(today):
        if local.time() < open_time:
            return _utc(today, open_time)
        if local.time() < window_close:
            return min(now_utc.astimezone(UTC) + TED_SETTLEMENT, _utc(today, window_close))
    return _utc(next_business_day(today), open_time)


def is_pix_night(now_utc: datetime, start: time = PIX_NIGHT_START, end: time = PIX_NIGHT_END) -> bool:
    """Whether `now_utc` falls in the Pix night period (Brasília time, `start` inclusive, `end` exclusive)."""
    clock = _local(now_utc).time()
    if start <= end:
        return start <= clock < end
    return clock >= start or clock < end


def night_window_start(
    now_utc: datetime, start: time = PIX_NIGHT_START, end: time = PIX_NIGHT_END
) -> datetime:
    """The UTC instant the current Pix night began, to sum what was already sent tonight.

    Raises ValueError in the daytime, when there is no current night to sum.
    """
    if not is_pix_night(now_utc, start, end):
        raise ValueError("not inside the Pix night period")
    local = _local(now_utc)
    began = local.date()
    if start > end and local.time() < end:
        began -= timedelta(days=1)
    return _utc(began, start)
