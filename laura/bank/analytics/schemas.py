"""Wire shapes of analytics (spec 4.3 and 4.4, and the summary)."""

from __future__ import annotations

import datetime as dt

from laura.bank.spending.categories import SpendingCategory
from laura.core.money import Money
from laura.core.schemas import ApiModel


class CategorySpending(ApiModel):
    category: SpendingCategory
    spent: Money
    percentage_of_total: int
    transaction_count: int


class CategorySpendingOut(ApiModel):
    data: list[CategorySpending]
    total: Money
    period: str
    """The window's first and last Brasília days: "2026-01-01_2026-01-31"."""


class DaySpending(ApiModel):
    date: dt.date
    amount: Money


class SpendingTrendsOut(ApiModel):
    data: list[DaySpending]


class MonthFlow(ApiModel):
    month: str
    """The Brasília month, "2026-07"."""
    income: Money
    spending: Money


class MerchantSpending(ApiModel):
    merchant: str
    spent: Money
    transaction_count: int


class SummaryOut(ApiModel):
    months: list[MonthFlow]
    top_merchants: list[MerchantSpending]
