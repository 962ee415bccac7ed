"""Budgets: created, listed, read, changed and (softly) deleted by their customer, each answered with what
it spent in its current period and where that leaves it (SAFE, WARNING, DANGER); the summary of them all,
cached. A write that may change a budget's standing schedules its threshold check (`alerts`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.bank.budgets.alerts import drop_summary, schedule_check
from laura.bank.budgets.cache import SummaryCache
from laura.bank.budgets.errors import BudgetAlreadyExists, BudgetNotFound
from laura.bank.budgets.models import Budget
from laura.bank.budgets.repository import BudgetRepository
from laura.bank.budgets.schemas import (
    BudgetList,
    BudgetOut,
    BudgetPatch,
    BudgetRequest,
    BudgetSummary,
    SummaryItem,
)
from laura.bank.budgets.spent import BudgetSpend, spent_by_budget
from laura.bank.budgets.status import percentage, status_of
from laura.bank.spending.windows import period_window
from laura.core.errors import ValidationFailed
from laura.core.models import uuid7
from laura.core.money import from_cents, to_cents


def _out(row: BudgetSpend) -> BudgetOut:
    budget = row.budget
    return BudgetOut(
        id=budget.id,
        category=budget.category,
        limit=from_cents(budget.limit_cents),
        spent=from_cents(row.spent_cents),
        percentage=percentage(row.spent_cents, budget.limit_cents),
        status=status_of(row.spent_cents, budget.limit_cents, budget.alert_thresholds),
        period=budget.period,
        alert_thresholds=list(budget.alert_thresholds),
        start_date=budget.start_date,
        end_date=budget.end_date,
        period_start=row.window.first_day,
        period_end=row.window.last_day,
        created_at=budget.created_at,
        updated_at=budget.updated_at,
    )


def _audited(budget: Budget) -> dict[str, object]:
    return {
        "category": budget.category,
        "limit": str(from_cents(budget.limit_cents)),
        "period": budget.period,
        "alertThresholds": list(budget.alert_thresholds),
        "startDate": budget.start_date.isoformat(),
        "endDate": budget.end_date.isoformat() if budget.end_date else None,
    }


async def _answer(session: AsyncSession, budget: Budget, now: datetime) -> BudgetOut:
    [row] = await spent_by_budget(session, budget.user_id, [budget], now)
    return _out(row)


async def create(session: AsyncSession, user_id: uuid.UUID, data: BudgetRequest, now: datetime) -> BudgetOut:
    """A budget from `startDate` (by default the first day of the current period, so the whole period
    counts, spending before the budget was made too); 409 if the customer has a live one of that category
    and period already."""
    budget = Budget(
        id=uuid7(),
        user_id=user_id,
        category=data.category,
        limit_cents=to_cents(data.limit),
        period=data.period,
        alert_thresholds=list(data.alert_thresholds),
        start_date=data.start_date or period_window(data.period, now).first_day,
        end_date=data.end_date,
        created_at=now,
        updated_at=now,
    )
    if budget.end_date is not None and budget.end_date < budget.start_date:
        raise ValidationFailed(details=[{"field": "endDate", "message": "must not be before startDate"}])
    if not await BudgetRepository(session).add(budget):
        raise BudgetAlreadyExists(details={"category": budget.category, "period": budget.period})
    audit.record(
        session,
        action="BUDGET_CREATED",
        resource_type="budget",
        resource_id=str(budget.id),
        new=_audited(budget),
    )
    await schedule_check(session, user_id)
    return await _answer(session, budget, now)


async def _owned(
    session: AsyncSession, user_id: uuid.UUID, budget_id: uuid.UUID, *, lock: bool = False
) -> Budget:
    budget = await BudgetRepository(session).owned(budget_id, user_id, lock=lock)
    if budget is None:
        raise BudgetNotFound()
    return budget


async def get(session: AsyncSession, user_id: uuid.UUID, budget_id: uuid.UUID, now: datetime) -> BudgetOut:
    return await _answer(session, await _owned(session, user_id, budget_id), now)


async def list_budgets(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> BudgetList:
    budgets = await BudgetRepository(session).live(user_id)
    return BudgetList(data=[_out(row) for row in await spent_by_budget(session, user_id, budgets, now)])


async def update(
    session: AsyncSession, user_id: uuid.UUID, budget_id: uuid.UUID, data: BudgetPatch, now: datetime
) -> BudgetOut:
    """Change the limit, thresholds or dates; the category and period are the budget's identity (delete
    and create another to change them)."""
    budget = await _owned(session, user_id, budget_id, lock=True)
    old = _audited(budget)
    sent = data.model_fields_set
    if data.limit is not None:
        budget.limit_cents = to_cents(data.limit)
    if data.alert_thresholds is not None:
        budget.alert_thresholds = list(data.alert_thresholds)
    if data.start_date is not None:
        budget.start_date = data.start_date
    if "end_date" in sent:
        budget.end_date = data.end_date
    if budget.end_date is not None and budget.end_date < budget.start_date:
        raise ValidationFailed(details=[{"field": "endDate", "message": "must not be before startDate"}])
    budget.updated_at = now
    await session.flush()
    audit.record(
        session,
        action="BUDGET_UPDATED",
        resource_type="budget",
        resource_id=str(budget.id),
        old=old,
        new=_audited(budget),
    )
    await schedule_check(session, user_id)
    return await _answer(session, budget, now)


async def delete(session: AsyncSession, user_id: uuid.UUID, budget_id: uuid.UUID, now: datetime) -> None:
    """Soft: the budget stops counting and its alerts stay; its category and period are free again."""
    budget = await _owned(session, user_id, budget_id, lock=True)
    await BudgetRepository(session).soft_delete(budget, now)
    audit.record(
        session,
        action="BUDGET_DELETED",
        resource_type="budget",
        resource_id=str(budget.id),
        old=_audited(budget),
    )
    if not await schedule_check(session, user_id):  # the customer's last budget: nothing to check
        drop_summary(session, user_id)


def _summary(rows: Sequence[BudgetSpend]) -> BudgetSummary:
    total_budget = sum(row.budget.limit_cents for row in rows)
    total_spent = sum(row.spent_cents for row in rows)
    return BudgetSummary(
        total_budget=from_cents(total_budget),
        total_spent=from_cents(total_spent),
        percentage_spent=percentage(total_spent, total_budget),
        budgets=[SummaryItem.model_validate(_out(row)) for row in rows],
    )


async def summary(
    session: AsyncSession, user_id: uuid.UUID, cache: SummaryCache, now: datetime
) -> BudgetSummary:
    """Every live budget in its current period, from the cache when it holds a current one."""
    cached, generation = await cache.get(user_id, now)
    if cached is not None:
        return BudgetSummary.model_validate(cached)
    budgets = await BudgetRepository(session).live(user_id)
    rows = await spent_by_budget(session, user_id, budgets, now)
    answer = _summary(rows)
    ends = [row.window.end for row in rows if row.window.end > now]
    valid_until = min([*ends, now + timedelta(seconds=cache.ttl_seconds)])
    await cache.put(user_id, answer.model_dump(mode="json", by_alias=True), generation, valid_until)
    return answer
