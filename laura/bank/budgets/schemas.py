"""Wire shapes of budgets (spec 4.1, 4.2). Amounts are JSON numbers with two decimals; `percentage` too
(spent over limit, rounded down to the hundredth, see `status.percentage`)."""

from __future__ import annotations

import uuid
from datetime import date
from itertools import pairwise
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from laura.bank.budgets.status import DEFAULT_THRESHOLDS, BudgetStatus
from laura.bank.spending.categories import SpendingCategory
from laura.bank.spending.windows import Period
from laura.core.money import Amount, Money
from laura.core.schemas import ApiModel, RequestModel, UtcDatetime

Threshold = Annotated[int, Field(strict=True, ge=1, le=100)]
Thresholds = Annotated[list[Threshold], Field(min_length=1, max_length=5)]
"""One to five percentages of the limit, each 1..100, strictly ascending."""


def _ascending(value: list[int] | None) -> list[int] | None:
    if value is not None and any(a >= b for a, b in pairwise(value)):
        raise ValueError("must be strictly ascending, e.g. [50, 75, 90]")
    return value


def _budget_period(value: Period) -> Period:
    if value is Period.CUSTOM:
        raise ValueError("must be WEEKLY, MONTHLY or ANNUAL")
    return value


def _dates_in_order(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError("endDate must not be before startDate")


class BudgetRequest(RequestModel):
    category: SpendingCategory
    limit: Amount
    period: Period
    alert_thresholds: Thresholds = Field(default_factory=lambda: list(DEFAULT_THRESHOLDS))
    start_date: date | None = None
    """The first day the budget counts (Brasília); the current period's first day when absent."""
    end_date: date | None = None
    """The last day it counts; none for a budget that goes on, period after period."""

    _ascending = field_validator("alert_thresholds")(_ascending)
    _period = field_validator("period")(_budget_period)

    @model_validator(mode="after")
    def _dates(self) -> BudgetRequest:
        _dates_in_order(self.start_date, self.end_date)
        return self


class BudgetPatch(RequestModel):
    """Only the fields sent change; `endDate: null` makes the budget open-ended again."""

    limit: Amount | None = None
    alert_thresholds: Thresholds | None = None
    start_date: date | None = None
    end_date: date | None = None

    _ascending = field_validator("alert_thresholds")(_ascending)

    @model_validator(mode="after")
    def _dates(self) -> BudgetPatch:
        for name in ("limit", "alert_thresholds", "start_date"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        _dates_in_order(self.start_date, self.end_date)
        return self


class BudgetOut(ApiModel):
    id: uuid.UUID
    category: str
    limit: Money
    spent: Money
    percentage: Money
    status: BudgetStatus
    period: str
    alert_thresholds: list[int]
    start_date: date
    end_date: date | None
    period_start: date
    """The first day of the current period (clamped to startDate), where `spent` counts from."""
    period_end: date
    created_at: UtcDatetime
    updated_at: UtcDatetime


class BudgetList(ApiModel):
    data: list[BudgetOut]


class SummaryItem(ApiModel):
    id: uuid.UUID
    category: str
    period: str
    limit: Money
    spent: Money
    percentage: Money
    status: BudgetStatus


class BudgetSummary(ApiModel):
    """Every live budget in its current period; the totals add them up (a MONTHLY and an ANNUAL budget of
    one category both count what that category spent this month)."""

    total_budget: Money
    total_spent: Money
    percentage_spent: Money
    budgets: list[SummaryItem]
