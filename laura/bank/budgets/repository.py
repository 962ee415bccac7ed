"""Queries on budgets and their alerts; what they spent comes from the spending layer, not from here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.budgets.models import LIVE_INDEX, Budget
from laura.core.db import fetch, fetchval

_CHANGED = "SELECT budgets_spending_changed($1)"
"""laura/bank/budgets/sql/spending_changed.sql: whether the customer has a live budget; if so their check is
enqueued (or one waits already) and their budget lock is held shared until the commit."""

_CHECK_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text, 24))"

_INSERT_ALERTS = """
INSERT INTO budget_alerts (budget_id, period_start, threshold, spent_cents)
SELECT $1, $2, t, $3 FROM unnest($4::int[]) t
ON CONFLICT DO NOTHING
RETURNING threshold
"""


class BudgetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, budget: Budget) -> bool:
        """Insert; False when the customer has a live budget of that category and period (a concurrent
        create included: the partial unique index decides)."""
        try:
            async with self.session.begin_nested():
                self.session.add(budget)
                await self.session.flush()
        except IntegrityError as exc:
            if LIVE_INDEX not in str(exc.orig):
                raise
            return False
        return True

    async def owned(self, budget_id: uuid.UUID, user_id: uuid.UUID, *, lock: bool = False) -> Budget | None:
        """The customer's live budget by id (None for another's or a deleted one)."""
        query = select(Budget).where(
            Budget.id == budget_id, Budget.user_id == user_id, Budget.deleted_at.is_(None)
        )
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def live(self, user_id: uuid.UUID) -> Sequence[Budget]:
        """The customer's live budgets, oldest first."""
        query = (
            select(Budget)
            .where(Budget.user_id == user_id, Budget.deleted_at.is_(None))
            .order_by(Budget.created_at, Budget.id)
        )
        return (await self.session.execute(query)).scalars().all()

    async def spending_changed(self, user_id: uuid.UUID) -> bool:
        return bool(await fetchval(self.session, _CHANGED, user_id))

    async def lock_for_check(self, user_id: uuid.UUID) -> None:
        await fetchval(self.session, _CHECK_LOCK, user_id)

    async def insert_alerts(
        self, budget_id: uuid.UUID, period_start: date, spent_cents: int, thresholds: list[int]
    ) -> list[int]:
        """Record the alerts of `thresholds` for the period; returns those that were not recorded yet."""
        rows = await fetch(self.session, _INSERT_ALERTS, budget_id, period_start, spent_cents, thresholds)
        return sorted(r["threshold"] for r in rows)

    async def soft_delete(self, budget: Budget, now: datetime) -> None:
        budget.deleted_at = now
        await self.session.flush()
