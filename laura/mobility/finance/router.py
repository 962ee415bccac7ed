"""`GET /admin/financials/report`: the admin's financial report, as JSON or (`?format=csv`) a CSV file."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from laura.core.models import utcnow
from laura.core.replica import ReplicaSessionDep
from laura.identity.deps import AdminUser
from laura.mobility.deps import SettingsDep
from laura.mobility.finance import service
from laura.mobility.finance.errors import ReportRangeInvalid
from laura.mobility.finance.export import report_csv
from laura.mobility.finance.periods import GroupBy, report_window
from laura.mobility.finance.schemas import FinancialReportOut

router = APIRouter(tags=["admin"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "The report as JSON, or a CSV file with ?format=csv"},
    422: {"description": f"{ReportRangeInvalid.error} / VALIDATION_ERROR"},
}


@router.get("/admin/financials/report", response_model=FinancialReportOut, responses=_RESPONSES)
async def financial_report(
    _: AdminUser,
    session: ReplicaSessionDep,
    settings: SettingsDep,
    first: Annotated[
        dt.date | None, Query(alias="from", description="First day (default: 1st of the month)")
    ] = None,
    last: Annotated[
        dt.date | None, Query(alias="to", description="Last day, included (default: today)")
    ] = None,
    group_by: Annotated[GroupBy, Query(alias="groupBy")] = GroupBy.DAY,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> FinancialReportOut | Response:
    """Per day, ISO week or month of the range (Brasília dates): fares, commission, driver earnings,
    cancellation fees, payouts completed / failed / pending, charges pending and webhooks missed, and
    the range's totals. Amounts are decimal strings."""
    window = report_window(first, last, group_by, now=utcnow(), timezone=settings.mobility_timezone)
    report = await service.report(session, window)
    if format == "csv":
        name = f"financials-{window.first_day}-{window.last_day}-{group_by.value}.csv"
        return Response(
            report_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return report
