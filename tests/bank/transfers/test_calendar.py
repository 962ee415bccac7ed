"""Banking days, TED delivery estimates and the Pix night window, all in Brasília time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from laura.bank.transfers.calendar import (
    is_business_day,
    is_pix_night,
    next_business_day,
    night_window_start,
    ted_estimated_delivery,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- banking days ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "business"),
    [
        (date(2026, 1, 15), True),  # Thursday
        (date(2026, 1, 17), False),  # Saturday
        (date(2026, 1, 18), False),  # Sunday
        (date(2026, 1, 1), False),  # Confraternização Universal
        (date(2026, 2, 16), False),  # Carnival Monday (bank holiday)
        (date(2026, 2, 17), False),  # Carnival Tuesday (bank holiday)
        (date(2026, 2, 18), True),  # Ash Wednesday: banks open
        (date(2026, 4, 3), False),  # Good Friday
        (date(2026, 4, 21), False),  # Tiradentes (a Tuesday)
        (date(2026, 6, 4), False),  # Corpus Christi (bank holiday)
        (date(2025, 11, 20), False),  # Consciência Negra, national since 2024
        (date(2025, 12, 24), True),  # Christmas Eve is a banking day
        (date(2025, 12, 25), False),  # Christmas
    ],
)
def test_is_business_day(day: date, business: bool) -> None:
    assert is_business_day(day) is business


@pytest.mark.parametrize(
    ("day", "following"),
    [
        (date(2026, 1, 15), date(2026, 1, 16)),
        (date(2026, 1, 16), date(2026, 1, 19)),  # Friday -> Monday
        (date(2026, 4, 20), date(2026, 4, 22)),  # over Tiradentes
        (date(2026, 2, 13), date(2026, 2, 18)),  # over the weekend and Carnival
        (date(2025, 12, 24), date(2025, 12, 26)),  # over Christmas
        (date(2025, 12, 31), date(2026, 1, 2)),  # over New Year
    ],
)
def test_next_business_day(day: date, following: date) -> None:
    assert next_business_day(day) == following


# --- TED -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "delivered"),
    [
        # Thursday 11:30 BRT: same day, 30 minutes later
        ("2026-01-15T14:30:00", "2026-01-15T15:00:00"),
        # Thursday 16:45 BRT: same day, capped at the 17:00 close
        ("2026-01-15T19:45:00", "2026-01-15T20:00:00"),
        # Thursday 17:00 BRT sharp: the window has closed -> Friday 09:00 BRT
        ("2026-01-15T20:00:00", "2026-01-16T12:00:00"),
        # Thursday 19:00 BRT (the spec's after-hours TED) -> Friday 09:00 BRT
        ("2026-01-15T22:00:00", "2026-01-16T12:00:00"),
        # Thursday 07:00 BRT, before the window opens -> the same day at 09:00 BRT
        ("2026-01-15T10:00:00", "2026-01-15T12:00:00"),
        # Friday 18:00 BRT -> Monday 09:00 BRT = 12:00Z
        ("2026-01-16T21:00:00", "2026-01-19T12:00:00"),
        # Saturday noon -> Monday 09:00 BRT
        ("2026-01-17T15:00:00", "2026-01-19T12:00:00"),
        # Monday 18:00 BRT before Tiradentes (Tuesday) -> Wednesday
        ("2026-04-20T21:00:00", "2026-04-22T12:00:00"),
        # On Tiradentes itself, in business hours -> Wednesday
        ("2026-04-21T14:00:00", "2026-04-22T12:00:00"),
        # Christmas Eve 18:00 BRT -> 26 December
        ("2025-12-24T21:00:00", "2025-12-26T12:00:00"),
        # Friday before Carnival, 17:30 BRT -> Ash Wednesday
        ("2026-02-13T20:30:00", "2026-02-18T12:00:00"),
        # Friday 23:30 BRT is already Saturday 02:30 UTC: the Brasília date decides
        ("2026-01-17T02:30:00", "2026-01-19T12:00:00"),
    ],
)
def test_ted_estimated_delivery(sent: str, delivered: str) -> None:
    result = ted_estimated_delivery(utc(sent))
    assert result == utc(delivered)
    assert result.utcoffset() is not None and result.utcoffset().total_seconds() == 0


def test_ted_window_is_configurable() -> None:
    # Thursday 15:30 BRT with a 15:00 close -> Friday 08:00 BRT
    sent = utc("2026-01-15T18:30:00")
    assert ted_estimated_delivery(sent, window_close=time(15, 0), open_time=time(8, 0)) == utc(
        "2026-01-16T11:00:00"
    )


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ted_estimated_delivery(datetime(2026, 1, 15, 14, 30))


# --- Pix night ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "night"),
    [
        ("2026-01-15T22:59:59", False),  # 19:59:59 BRT
        ("2026-01-15T23:00:00", True),  # 20:00 BRT
        ("2026-01-16T02:59:59", True),  # 23:59:59 BRT
        ("2026-01-16T03:00:00", True),  # 00:00 BRT
        ("2026-01-16T08:59:59", True),  # 05:59:59 BRT
        ("2026-01-16T09:00:00", False),  # 06:00 BRT
        ("2026-01-16T15:00:00", False),  # noon BRT
    ],
)
def test_is_pix_night_default_window(now: str, night: bool) -> None:
    assert is_pix_night(utc(now)) is night


def test_is_pix_night_custom_window() -> None:
    # A customer who moved the night start to 22:00.
    assert not is_pix_night(utc("2026-01-16T00:59:00"), start=time(22, 0))  # 21:59 BRT
    assert is_pix_night(utc("2026-01-16T01:00:00"), start=time(22, 0))  # 22:00 BRT
    # A window that does not cross midnight.
    assert is_pix_night(utc("2026-01-16T04:00:00"), start=time(0, 0), end=time(6, 0))  # 01:00 BRT
    assert not is_pix_night(utc("2026-01-16T02:00:00"), start=time(0, 0), end=time(6, 0))  # 23:00 BRT


@pytest.mark.parametrize(
    ("now", "began"),
    [
        ("2026-01-15T23:00:00", "2026-01-15T23:00:00"),  # 20:00 BRT: the night starts now
        ("2026-01-16T02:00:00", "2026-01-15T23:00:00"),  # 23:00 BRT
        ("2026-01-16T06:00:00", "2026-01-15T23:00:00"),  # 03:00 BRT the next day
        ("2026-01-16T08:59:59", "2026-01-15T23:00:00"),  # 05:59:59 BRT
    ],
)
def test_night_window_start(now: str, began: str) -> None:
    assert night_window_start(utc(now)) == utc(began)


def test_night_window_start_custom_windows() -> None:
    assert night_window_start(utc("2026-01-16T04:00:00"), start=time(22, 0)) == utc("2026-01-16T01:00:00")
    assert night_window_start(utc("2026-01-16T04:00:00"), start=time(0, 0), end=time(6, 0)) == utc(
        "2026-01-16T03:00:00"
    )


def test_night_window_start_in_the_daytime_is_an_error() -> None:
    with pytest.raises(ValueError, match="not inside the Pix night"):
        night_window_start(utc("2026-01-16T09:00:00"))  # 06:00 BRT
