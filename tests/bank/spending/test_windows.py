"""Spending windows: the periods in Brasília days, their UTC instants, a budget's clamp; the categories."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from laura.bank.card_network.mcc import Category
from laura.bank.spending.categories import SpendingCategory
from laura.bank.spending.windows import Period, Window, period_window

# 2026-03-01 01:30 UTC is still Saturday 2026-02-28 22:30 in São Paulo (UTC-3)
LATE_FEB = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)


def test_the_periods_are_counted_around_the_brasilia_day() -> None:
    week = period_window(Period.WEEKLY, LATE_FEB)
    assert (week.first_day, week.last_day) == (date(2026, 2, 23), date(2026, 3, 1))
    month = period_window(Period.MONTHLY, LATE_FEB)
    assert (month.first_day, month.last_day) == (date(2026, 2, 1), date(2026, 2, 28))
    assert month.start == datetime(2026, 2, 1, 3, tzinfo=UTC) and month.end == datetime(
        2026, 3, 1, 3, tzinfo=UTC
    )
    assert month.label == "2026-02-01_2026-02-28"
    year = period_window(Period.ANNUAL, LATE_FEB)
    assert (year.first_day, year.last_day) == (date(2026, 1, 1), date(2026, 12, 31))
    leap = period_window(Period.MONTHLY, datetime(2028, 2, 10, tzinfo=UTC))
    assert leap.last_day == date(2028, 2, 29)
    december = period_window(Period.MONTHLY, datetime(2026, 12, 31, 12, tzinfo=UTC))
    assert (december.first_day, december.last_day) == (date(2026, 12, 1), date(2026, 12, 31))


def test_a_budget_clamps_its_period_and_custom_is_its_dates() -> None:
    clamped = period_window(
        Period.MONTHLY, LATE_FEB, start_date=date(2026, 2, 10), end_date=date(2026, 2, 20)
    )
    assert (clamped.first_day, clamped.last_day) == (date(2026, 2, 10), date(2026, 2, 20))
    assert len(list(clamped.days())) == 11
    over = period_window(Period.MONTHLY, LATE_FEB, end_date=date(2026, 1, 31))
    assert over.start == over.end and list(over.days()) == []
    custom = period_window(Period.CUSTOM, LATE_FEB, start_date=date(2025, 12, 30), end_date=date(2026, 1, 2))
    assert custom == Window.between(date(2025, 12, 30), date(2026, 1, 2))
    assert [d.isoformat() for d in custom.days()] == ["2025-12-30", "2025-12-31", "2026-01-01", "2026-01-02"]
    with pytest.raises(ValueError):
        period_window(Period.CUSTOM, LATE_FEB, start_date=date(2026, 1, 1))


def test_spending_categories_are_the_card_categories_and_transfers() -> None:
    assert [c.value for c in SpendingCategory] == [c.value for c in Category] + ["TRANSFERS"]
    assert [c.name for c in SpendingCategory] == [c.name for c in Category] + ["TRANSFERS"]
