"""What each budget spent in its current period, from the spending layer: one query per distinct window
(a customer's budgets share two or three: this week, this month, this year)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.budgets.models import Budget
from laura.bank.spending.categories import SpendingCategory
from laura.bank.spending.query import spending_by_category
from laura.bank.spending.windows import Period, Window, period_window


@dataclass(frozen=True)
class BudgetSpend:
    budget: Budget
    window: Window
    spent_cents: int


def window_of(budget: Budget, now: datetime) -> Window:
    return period_window(Period(budget.period), now, start_date=budget.start_date, end_date=budget.end_date)


async def spent_by_budget(
    session: AsyncSession, user_id: uuid.UUID, budgets: Sequence[Budget], now: datetime
) -> list[BudgetSpend]:
    """Each budget with its window and what its category spent there, in the budgets' order."""
    windows = {budget.id: window_of(budget, now) for budget in budgets}
    wanted: dict[Window, set[SpendingCategory]] = {}
    for budget in budgets:
        wanted.setdefault(windows[budget.id], set()).add(SpendingCategory(budget.category))
    spent: dict[tuple[Window, str], int] = {}
    for window, categories in wanted.items():
        if window.end <= window.start:
            continue  # before the budget starts or after it ended: nothing counts
        for row in await spending_by_category(session, user_id, window, sorted(categories)):
            spent[(window, row.category)] = row.spent_cents
    return [BudgetSpend(b, windows[b.id], spent.get((windows[b.id], b.category), 0)) for b in budgets]
