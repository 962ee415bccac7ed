"""Fraud review for admins: the rules' flags (open first, each with its subject's trust score) and their
resolution through `fraud.service.resolve_flag`, as `POST /admin/fraud/flags/{id}/resolve` does. Resolving
moves money (a held share released, or forfeited when confirmed), so it has a page of its own that asks for
the note and the decision before anything changes; a second submission finds it resolved already."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from laura.core.db import SessionDep
from laura.core.models import utcnow
from laura.mobility.fraud import service as fraud
from laura.mobility.fraud.errors import FlagAlreadyResolved, FlagNotFound
from laura.mobility.fraud.models import FlagStatus, Rule
from laura.mobility.fraud.schemas import FlagOut, ResolveRequest
from laura.web import forms
from laura.web.i18n import N_
from laura.web.routes.console.access import ConsoleAdmin, ConsoleNotFound
from laura.web.routes.console.paging import paging, query_choice
from laura.web.routes.console.sections import console_page

router = APIRouter(include_in_schema=False)

DONE = {
    "cleared": N_("The flag is resolved as no fraud; any held share is the driver's again."),
    "confirmed": N_("The flag is resolved as fraud; the held share is forfeited."),
    "resolved": N_("This flag had already been resolved."),
}
_STATUSES = tuple(s.value for s in FlagStatus)
_RULES = tuple(r.value for r in Rule)


@router.get("/ops/fraud", response_class=HTMLResponse)
async def flags(request: Request, admin: ConsoleAdmin, session: SessionDep) -> Response:
    status = query_choice(request, "status", _STATUSES + ("all",)) or FlagStatus.OPEN.value
    rule = query_choice(request, "rule", _RULES)
    at = paging(request)
    found, total = await fraud.list_flags(
        session,
        status=None if status == "all" else status,
        rule=rule,
        offset=at.offset,
        limit=at.size,
        now=utcnow(),
    )
    return console_page(
        request,
        "console/fraud.html",
        flags=[(FlagOut.model_validate(flag), score) for flag, score in found],
        total=total,
        status=status,
        rule=rule,
        statuses=_STATUSES,
        rules=_RULES,
        at=at,
        pages=at.pages(total),
        extra=f"&status={status}" + (f"&rule={rule}" if rule else ""),
        done=DONE.get(request.query_params.get("done", "")),
    )


async def _flag(session: SessionDep, flag_id: uuid.UUID) -> FlagOut:
    try:
        return FlagOut.model_validate(await fraud.get_flag(session, flag_id))
    except FlagNotFound as error:
        raise ConsoleNotFound() from error


@router.get("/ops/fraud/{flag_id}", response_class=HTMLResponse)
async def resolve_form(
    request: Request, flag_id: uuid.UUID, admin: ConsoleAdmin, session: SessionDep
) -> Response:
    flag = await _flag(session, flag_id)
    return console_page(
        request, "console/fraud_resolve.html", flag=flag, values={}, errors=forms.FormErrors()
    )


@router.post("/ops/fraud/{flag_id}", response_class=HTMLResponse)
async def resolve(request: Request, flag_id: uuid.UUID, admin: ConsoleAdmin, session: SessionDep) -> Response:
    form = await request.form()
    values = {"note": str(form.get("note", "")).strip(), "decision": str(form.get("decision", "cleared"))}
    try:
        body = ResolveRequest.model_validate(values)
    except ValidationError:
        errors = forms.FormErrors()
        errors.add("note", N_("Write what you checked, in up to 1000 characters."))
        flag = await _flag(session, flag_id)
        return console_page(
            request, "console/fraud_resolve.html", status_code=422, flag=flag, values=values, errors=errors
        )
    try:
        await fraud.resolve_flag(
            session, flag_id=flag_id, admin_id=admin.id, note=body.note, decision=body.decision, now=utcnow()
        )
    except FlagNotFound as error:
        raise ConsoleNotFound() from error
    except FlagAlreadyResolved:
        return RedirectResponse("/ops/fraud?done=resolved", status_code=303)
    return RedirectResponse(f"/ops/fraud?done={body.decision.value}", status_code=303)
