"""Analytics over HTTP (spec 4.3 and 4.4): the customer's own spending, by category, by day, and a summary;
read on the replica when there is one (a figure a moment old decides nothing)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from laura.bank.analytics import service
from laura.bank.analytics.schemas import CategorySpendingOut, SpendingTrendsOut, SummaryOut
from laura.bank.spending.windows import Period
from laura.core.models import utcnow
from laura.core.replica import ReplicaSessionDep
from laura.identity.deps import CurrentUser

router = APIRouter(prefix="/api/analytics", tags=["analytics"])

_INVALID: dict[int | str, dict[str, Any]] = {422: {"description": "VALIDATION_ERROR"}}


@router.get("/category-spending", response_model=CategorySpendingOut, responses=_INVALID)
async def category_spending(
    user: CurrentUser,
    session: ReplicaSessionDep,
    period: Period = Period.MONTHLY,
    first: Annotated[dt.date | None, Query(alias="from", description="CUSTOM only: the first day")] = None,
    last: Annotated[dt.date | None, Query(alias="to", description="CUSTOM only: the last day")] = None,
) -> CategorySpendingOut:
    """What the caller spent by category in the period (Brasília days), biggest first, with whole
    percentages of the total that add up to 100."""
    window = service.category_window(period, first, last, utcnow())
    return await service.category_spending(session, user.id, window)


@router.get("/spending-trends", response_model=SpendingTrendsOut, responses=_INVALID)
async def spending_trends(
    user: CurrentUser, session: ReplicaSessionDep, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> SpendingTrendsOut:
    """What the caller spent on each of the last `days` Brasília days, today included, quiet days as 0."""
    return await service.spending_trends(session, user.id, days, utcnow())


@router.get("/summary", response_model=SummaryOut, responses=_INVALID)
async def summary(
    user: CurrentUser, session: ReplicaSessionDep, months: Annotated[int, Query(ge=1, le=24)] = 6
) -> SummaryOut:
    """Income against spending for this month and the `months - 1` before it, and the top five merchants."""
    return await service.summary(session, user.id, months, utcnow())
