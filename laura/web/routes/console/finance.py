"""The mobility finance report for admins (`GET /admin/financials/report`): a Brasília date range cut by
day, week or month, read from the ledger and the Pix books by `finance.service.report`, and the same report
as the CSV file the API gives (`finance.export.report_csv`), downloaded with the page's own session."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from laura.core.models import utcnow
from laura.core.replica import ReplicaSessionDep
from laura.mobility.finance import service as finance
from laura.mobility.finance.errors import ReportRangeInvalid
from laura.mobility.finance.export import report_csv
from laura.mobility.finance.periods import GroupBy, ReportWindow, report_window
from laura.web import forms
from laura.web.i18n import N_
from laura.web.routes.console.access import ConsoleAdmin
from laura.web.routes.console.sections import console_page

router = APIRouter(include_in_schema=False)
_GROUPS = tuple(g.value for g in GroupBy)


def _day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _window(request: Request) -> tuple[ReportWindow | None, dict[str, str], forms.FormErrors]:
    query = request.query_params
    values = {
        "from": query.get("from", ""),
        "to": query.get("to", ""),
        "groupBy": query.get("groupBy", "day"),
    }
    errors = forms.FormErrors()
    group = GroupBy(values["groupBy"]) if values["groupBy"] in _GROUPS else GroupBy.DAY
    first, last = _day(values["from"]), _day(values["to"])
    for name, text, day in (("from", values["from"], first), ("to", values["to"], last)):
        if text and day is None:
            errors.add(name, N_("Enter a date like 2026-12-01."))
    if errors:
        return None, values, errors
    try:
        window = report_window(
            first, last, group, now=utcnow(), timezone=request.app.state.settings.mobility_timezone
        )
    except ReportRangeInvalid:
        errors.add("to", N_("The last day must not be before the first, and the range not too long."))
        return None, values, errors
    return window, values, errors


@router.get("/ops/finance", response_class=HTMLResponse)
async def report(request: Request, admin: ConsoleAdmin, session: ReplicaSessionDep) -> Response:
    window, values, errors = _window(request)
    found = await finance.report(session, window) if window is not None else None
    return console_page(
        request,
        "console/finance.html",
        status_code=422 if errors else 200,
        report=found,
        values=values,
        errors=errors,
        groups=_GROUPS,
        csv_query=str(request.query_params),
    )


@router.get("/ops/finance/report.csv")
async def report_file(request: Request, admin: ConsoleAdmin, session: ReplicaSessionDep) -> Response:
    window, values, errors = _window(request)
    if window is None:
        return console_page(
            request,
            "console/finance.html",
            status_code=422,
            report=None,
            values=values,
            errors=errors,
            groups=_GROUPS,
            csv_query="",
        )
    found = await finance.report(session, window)
    name = f"financials-{window.first_day}-{window.last_day}-{window.group_by.value}.csv"
    return Response(
        report_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
