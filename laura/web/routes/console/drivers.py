"""Drivers awaiting approval, with the documents they registered (CPF, CNH, vehicle and plate), approved
or rejected with a reason through `people.service.review_driver`, as `POST /admin/drivers/{id}/approve`
and `/reject` do (audited, the driver told over the event stream). A decision made twice (a double click,
another admin first) reads as "already reviewed" rather than an error page."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from laura.core.db import SessionDep
from laura.mobility.people import service as people
from laura.mobility.people.errors import DriverNotFound, DriverNotPending
from laura.mobility.people.models import ApprovalStatus
from laura.mobility.people.schemas import DriverOut, RejectDriverRequest
from laura.web import forms
from laura.web.i18n import N_
from laura.web.routes.console.access import ConsoleAdmin, ConsoleNotFound
from laura.web.routes.console.paging import paging
from laura.web.routes.console.sections import console_page

router = APIRouter(include_in_schema=False)

DONE = {
    "approved": N_("The driver was approved and may go online now."),
    "rejected": N_("The driver was rejected; they see the reason you gave."),
    "reviewed": N_("This driver had already been reviewed."),
}


@router.get("/ops/drivers", response_class=HTMLResponse)
async def pending(request: Request, admin: ConsoleAdmin, session: SessionDep) -> Response:
    at = paging(request)
    profiles, total = await people.pending_drivers(session, offset=at.offset, limit=at.size)
    drivers = [DriverOut.of(p.driver, p.vehicle) for p in profiles]
    done = DONE.get(request.query_params.get("done", ""))
    return console_page(
        request, "console/drivers.html", drivers=drivers, total=total, at=at, pages=at.pages(total), done=done
    )


@router.post("/ops/drivers/{driver_id}/approve", response_class=HTMLResponse)
async def approve(driver_id: uuid.UUID, admin: ConsoleAdmin, session: SessionDep) -> Response:
    try:
        await people.review_driver(session, admin=admin, driver_id=driver_id, approve=True)
    except DriverNotFound as error:
        raise ConsoleNotFound() from error
    except DriverNotPending:
        return RedirectResponse("/ops/drivers?done=reviewed", status_code=303)
    return RedirectResponse("/ops/drivers?done=approved", status_code=303)


async def _pending_driver(session: SessionDep, driver_id: uuid.UUID) -> DriverOut | None:
    """The driver if still awaiting review (the rejection page names who is rejected)."""
    try:
        profile = await people.driver_profile(session, driver_id)
    except DriverNotFound as error:
        raise ConsoleNotFound() from error
    if profile.driver.approval_status != ApprovalStatus.PENDING_APPROVAL:
        return None
    return DriverOut.of(profile.driver, profile.vehicle)


@router.get("/ops/drivers/{driver_id}/reject", response_class=HTMLResponse)
async def reject_form(
    request: Request, driver_id: uuid.UUID, admin: ConsoleAdmin, session: SessionDep
) -> Response:
    driver = await _pending_driver(session, driver_id)
    if driver is None:
        return RedirectResponse("/ops/drivers?done=reviewed", status_code=303)
    return console_page(
        request, "console/driver_reject.html", driver=driver, values={}, errors=forms.FormErrors()
    )


@router.post("/ops/drivers/{driver_id}/reject", response_class=HTMLResponse)
async def reject(
    request: Request, driver_id: uuid.UUID, admin: ConsoleAdmin, session: SessionDep
) -> Response:
    """The confirmation step: the reason is asked for, and nothing changes until this form is sent."""
    reason = str((await request.form()).get("reason", "")).strip()
    try:
        body = RejectDriverRequest(reason=reason)
    except ValidationError:
        driver = await _pending_driver(session, driver_id)
        if driver is None:
            return RedirectResponse("/ops/drivers?done=reviewed", status_code=303)
        errors = forms.FormErrors()
        errors.add("reason", N_("Tell the driver why, in 3 to 500 characters."))
        return console_page(
            request,
            "console/driver_reject.html",
            status_code=422,
            driver=driver,
            values={"reason": reason},
            errors=errors,
        )
    try:
        await people.review_driver(
            session, admin=admin, driver_id=driver_id, approve=False, reason=body.reason
        )
    except DriverNotFound as error:
        raise ConsoleNotFound() from error
    except DriverNotPending:
        return RedirectResponse("/ops/drivers?done=reviewed", status_code=303)
    return RedirectResponse("/ops/drivers?done=rejected", status_code=303)
