"""Where the money goes: the category donut of a period, the daily trend line, month over month (income
against spending) and the top merchants, from `analytics.service` as `/api/analytics/*` reads them; and the
home's budget bars and 30-day chart (`home_insights`). Charts are server-side SVG (`laura.web.charts`)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.analytics import service as analytics
from laura.bank.analytics.schemas import MonthFlow
from laura.bank.budgets import service as budgets
from laura.bank.spending.windows import Period
from laura.core.models import utcnow
from laura.core.replica import ReplicaSessionDep
from laura.web import charts
from laura.web.bank_labels import label, labelled_page
from laura.web.session import WebUser

router = APIRouter(include_in_schema=False)
HOME_DAYS = 30
TREND_DAYS = (7, 30, 90)
MONTHS = 6
PERIODS = (Period.WEEKLY, Period.MONTHLY, Period.ANNUAL)


def _change(months: list[MonthFlow]) -> Decimal | None:
    """This month's spending against last month's, in percent (None without spending last month)."""
    if len(months) < 2 or months[-2].spending == 0:
        return None
    return ((months[-1].spending - months[-2].spending) * 100 / months[-2].spending).quantize(Decimal(1))


@router.get("/analytics", response_class=HTMLResponse)
async def analytics_page(request: Request, user: WebUser, session: ReplicaSessionDep) -> Response:
    """`?period=` picks the donut's period, `?days=` the trend's length; an unknown one is the default."""
    now = utcnow()
    chosen = request.query_params.get("period", "")
    period = Period(chosen) if chosen in {p.value for p in PERIODS} else Period.MONTHLY
    asked = request.query_params.get("days", "")
    days = int(asked) if asked.isdigit() and int(asked) in TREND_DAYS else 30
    by_category = await analytics.category_spending(
        session, user.id, analytics.category_window(period, None, None, now)
    )
    trend = await analytics.spending_trends(session, user.id, days, now)
    summary = await analytics.summary(session, user.id, MONTHS, now)
    amounts = [day.amount for day in trend.data]
    return labelled_page(
        request,
        "analytics.html",
        period=period,
        periods=PERIODS,
        days=days,
        trend_days=TREND_DAYS,
        by_category=by_category,
        slices=charts.donut([c.percentage_of_total for c in by_category.data]),
        trend=trend.data,
        trend_line=charts.line(amounts),
        trend_total=sum(amounts, Decimal(0)),
        trend_top=max(amounts, default=Decimal(0)),
        months=summary.months,
        month_bars=charts.grouped_bars([(m.income, m.spending) for m in summary.months]),
        change=_change(summary.months),
        merchants=summary.top_merchants,
        width=charts.WIDTH,
        height=charts.HEIGHT,
    )


async def home_insights(request: Request, session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    """The home's budget bars (the cached budget summary) and its 30-day spending chart, as page context
    for `_home_budgets.html` and `_home_spending.html`."""
    now = utcnow()
    summary = await budgets.summary(session, user_id, request.app.state.budget_cache, now)
    trend = await analytics.spending_trends(session, user_id, HOME_DAYS, now)
    amounts = [day.amount for day in trend.data]
    return {
        "label": label,
        "budget_summary": summary,
        "spending_days": trend.data,
        "spending_bars": list(zip(trend.data, charts.bars(amounts), strict=True)),
        "spending_total": sum(amounts, Decimal(0)),
        "chart_width": charts.WIDTH,
        "chart_height": charts.HEIGHT,
    }
