"""Threshold alerts: `budget.threshold_reached` once per budget, threshold and period.

A write that changes a customer's spending (a card capture or refund, a bill paid, a transfer out or
recategorized) calls `schedule_check` in its own transaction; the one-statement P2P calls the same SQL
function, `budgets_spending_changed` (sql/spending_changed.sql), in its statement. If the customer has a
live budget it takes the customer's budget lock shared and enqueues `bank.budgets_check`, coalesced by
its queueing lock: a job already waiting will see this write too. The job takes the same lock exclusively before it reads, so it waits for every
spending write that enqueued or found it waiting and has not committed yet; a write that comes later
finds the job running (no longer waiting) and enqueues the next one. Without that lock, a job started
between a write's enqueue and its commit would miss the write.

The job computes each live budget's spending in its current period and inserts an alert row for every
threshold reached, `ON CONFLICT DO NOTHING`: the event is published only for the rows it inserted, in
the same transaction, so two purchases crossing a threshold together, two jobs, or a retried job still
make one alert. A new period has its own rows, so the alerts come again next month. The job drops the
cached summary too, for the P2P, whose statement cannot.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.budgets.cache import invalidate_after_commit
from laura.bank.budgets.repository import BudgetRepository
from laura.bank.budgets.spent import spent_by_budget
from laura.bank.budgets.status import reached_thresholds
from laura.core.db import settings_of
from laura.core.events import publish
from laura.core.money import from_cents

CHECK_TASK = "bank.budgets_check"
EVENT = "budget.threshold_reached"


async def schedule_check(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """In the spending write's transaction: enqueue the customer's check if they have a live budget, and
    drop their cached summary once it commits; whether they have one. A customer without budgets costs
    one index probe (and has no summary that spending could change)."""
    if not await BudgetRepository(session).spending_changed(user_id):
        return False
    drop_summary(session, user_id)
    return True


def drop_summary(session: AsyncSession, user_id: uuid.UUID) -> None:
    """The customer's cached summary dropped once the session commits."""
    settings = settings_of(session)
    invalidate_after_commit(session, user_id, settings.redis_url, settings.budget_summary_cache_ttl_seconds)


async def check(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> list[dict[str, object]]:
    """The job's body: alert every threshold the customer's live budgets reached in their current period
    and had not alerted yet; returns the events' data."""
    repo = BudgetRepository(session)
    await repo.lock_for_check(user_id)
    sent = []
    for row in await spent_by_budget(session, user_id, await repo.live(user_id), now):
        budget = row.budget
        reached = reached_thresholds(row.spent_cents, budget.limit_cents, budget.alert_thresholds)
        if not reached:
            continue
        for threshold in await repo.insert_alerts(budget.id, row.window.first_day, row.spent_cents, reached):
            data: dict[str, object] = {
                "budgetId": str(budget.id),
                "category": budget.category,
                "period": budget.period,
                "periodStart": row.window.first_day.isoformat(),
                "threshold": threshold,
                "spent": str(from_cents(row.spent_cents)),
                "limit": str(from_cents(budget.limit_cents)),
            }
            await publish(session, EVENT, data, user_ids=[user_id])
            sent.append(data)
    drop_summary(session, user_id)
    return sent
