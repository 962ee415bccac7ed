"""Budgets over HTTP (spec 4.1, 4.2): create, list, read, change, delete, and the summary."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, status

from laura.bank.budgets import (
    hooks,  # noqa: F401 - registers the spending hook at app start
    service,
)
from laura.bank.budgets.deps import SummaryCacheDep
from laura.bank.budgets.schemas import BudgetList, BudgetOut, BudgetPatch, BudgetRequest, BudgetSummary
from laura.core.db import SessionDep
from laura.core.idempotency import idempotent
from laura.core.models import utcnow
from laura.identity.deps import CurrentUser

router = APIRouter(prefix="/api/budgets", tags=["budgets"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "BUDGET_NOT_FOUND (another customer's or a deleted budget too)"}
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=BudgetOut,
    responses={
        409: {"description": "BUDGET_ALREADY_EXISTS: a live budget of that category and period"},
        422: {"description": "VALIDATION_ERROR (category, limit, period, alertThresholds, dates)"},
    },
)
@idempotent()
async def create_budget(body: BudgetRequest, user: CurrentUser, session: SessionDep) -> BudgetOut:
    """A budget for one category and period, answered with what it spent in the current period."""
    return await service.create(session, user.id, body, utcnow())


@router.get("", response_model=BudgetList)
async def list_budgets(user: CurrentUser, session: SessionDep) -> BudgetList:
    """The caller's live budgets, oldest first, each with its current period's spending and status."""
    return await service.list_budgets(session, user.id, utcnow())


@router.get("/summary", response_model=BudgetSummary)
async def budget_summary(user: CurrentUser, session: SessionDep, cache: SummaryCacheDep) -> BudgetSummary:
    """Totals and every live budget's status in its current period (cached 15 minutes with Redis, dropped
    by every write that changes the caller's spending or budgets)."""
    return await service.summary(session, user.id, cache, utcnow())


@router.get("/{budget_id}", response_model=BudgetOut, responses=_NOT_FOUND)
async def get_budget(budget_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> BudgetOut:
    return await service.get(session, user.id, budget_id, utcnow())


@router.patch(
    "/{budget_id}",
    response_model=BudgetOut,
    responses={**_NOT_FOUND, 422: {"description": "VALIDATION_ERROR (limit, alertThresholds, dates)"}},
)
async def update_budget(
    budget_id: uuid.UUID, body: BudgetPatch, user: CurrentUser, session: SessionDep
) -> BudgetOut:
    """Change the limit, the alert thresholds or the dates; only the fields sent change."""
    return await service.update(session, user.id, budget_id, body, utcnow())


@router.delete("/{budget_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
async def delete_budget(budget_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    """Delete the budget (its alerts stay on record); its category and period may be budgeted again."""
    await service.delete(session, user.id, budget_id, utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
