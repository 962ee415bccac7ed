"""Analytics: the spending layer's figures shaped for the customer's app. Every amount comes from
`laura.bank.spending.query` (budgets read the same), aggregated in PostgreSQL; Python only fills the empty
days and months and splits the percentages."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.accounts.service import ledger_code
from laura.bank.analytics.schemas import (
    CategorySpending,
    CategorySpendingOut,
    DaySpending,
    MerchantSpending,
    MonthFlow,
    SpendingTrendsOut,
    SummaryOut,
)
from laura.bank.spending import query
from laura.bank.spending.windows import Period, Window, period_window
from laura.bank.transfers.calendar import BRASILIA, brasilia_day
from laura.core.errors import ValidationFailed
from laura.core.money import from_cents
from laura.ledger.credits import credits_by_month

MAX_CUSTOM_DAYS = 366
TOP_MERCHANTS = 5
NOT_INCOME = ("CARD_REFUND",)
"""Credits that are no income: a card refund gives back spending (the spending layer nets it already)."""


def percentages(amounts: list[int]) -> list[int]:
    """Whole percentages of the total that add up to exactly 100 (largest remainder: each gets its floor, and
    the points left go to the biggest remainders, earlier entries first on a tie); [] for no entries."""
    total = sum(amounts)
    if total == 0:
        return [0] * len(amounts)
    floors = [amount * 100 // total for amount in amounts]
    by_remainder = sorted(range(len(amounts)), key=lambda i: (-(amounts[i] * 100 % total), i))
    for i in by_remainder[: 100 - sum(floors)]:
        floors[i] += 1
    return floors


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field} {message}", details=[{"field": field, "message": message}])


def category_window(period: Period, first: date | None, last: date | None, now: datetime) -> Window:
    """The window asked for: `from` and `to` with CUSTOM only, and then both, in order, at most 366 days."""
    if period is not Period.CUSTOM:
        if first is not None or last is not None:
            raise _invalid("from", "is only for period=CUSTOM")
        return period_window(period, now)
    if first is None or last is None:
        raise _invalid("from" if first is None else "to", "is required with period=CUSTOM")
    if last < first:
        raise _invalid("to", "must not be before from")
    if (last - first).days + 1 > MAX_CUSTOM_DAYS:
        raise _invalid("to", f"at most {MAX_CUSTOM_DAYS} days after from")
    return period_window(Period.CUSTOM, now, start_date=first, end_date=last)


async def category_spending(session: AsyncSession, user_id: uuid.UUID, window: Window) -> CategorySpendingOut:
    spent = await query.spending_by_category(session, user_id, window)
    shares = percentages([s.spent_cents for s in spent])
    data = [
        CategorySpending(
            category=s.category,
            spent=from_cents(s.spent_cents),
            percentage_of_total=share,
            transaction_count=s.count,
        )
        for s, share in zip(spent, shares, strict=True)
    ]
    total = from_cents(sum(s.spent_cents for s in spent))
    return CategorySpendingOut(data=data, total=total, period=window.label)


async def spending_trends(
    session: AsyncSession, user_id: uuid.UUID, days: int, now: datetime
) -> SpendingTrendsOut:
    """Every Brasília day from today-(days-1) to today, with what was spent on it (0 on a quiet day)."""
    today = brasilia_day(now)
    window = Window.between(today - timedelta(days=days - 1), today)
    spent = dict(await query.spending_by_day(session, user_id, window))
    return SpendingTrendsOut(
        data=[DaySpending(date=day, amount=from_cents(spent.get(day, 0))) for day in window.days()]
    )


def _months(first: date, last: date) -> list[date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


async def summary(session: AsyncSession, user_id: uuid.UUID, months: int, now: datetime) -> SummaryOut:
    """This Brasília month and the `months - 1` before it: what came in and what was spent each month, and
    the card merchants spent most with over them.

    Income is every posted credit to the customer's account (Pix and P2P received, deposits, TEDs in,
    funding) except reversals and card refunds; spending is the spending layer's."""
    today = brasilia_day(now)
    first = today.replace(day=1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    window = Window.between(first, today)
    spent = dict(await query.spending_by_month(session, user_id, window))
    came_in = dict(
        await credits_by_month(
            session,
            ledger_code(user_id),
            window.start,
            window.end,
            timezone=str(BRASILIA),
            excluding_reasons=NOT_INCOME,
        )
    )
    merchants = await query.top_merchants(session, user_id, window, TOP_MERCHANTS)
    return SummaryOut(
        months=[
            MonthFlow(
                month=month.strftime("%Y-%m"),
                income=from_cents(came_in.get(month, 0)),
                spending=from_cents(spent.get(month, 0)),
            )
            for month in _months(first, today)
        ],
        top_merchants=[
            MerchantSpending(merchant=m.merchant, spent=from_cents(m.spent_cents), transaction_count=m.count)
            for m in merchants
        ],
    )
