"""The support desk for staff: every customer's tickets by SLA deadline (`support.service.queue`, as
`GET /api/support/queue`), one ticket's conversation, and the desk's actions through the API's own service
calls: take the ticket (assign to me), reply (the customer is told live), and move its status along
`states.TRANSITIONS`. A refusal (closed ticket, a move the table has not) reads as a sentence on the page."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from laura.bank.support import service as support
from laura.bank.support.errors import InvalidTicketTransition, TicketClosed, TicketNotFound
from laura.bank.support.models import TicketStatus
from laura.bank.support.schemas import MessageRequest
from laura.bank.support.states import TRANSITIONS
from laura.core.db import SessionDep
from laura.core.errors import AppError
from laura.core.models import utcnow
from laura.identity.service import Principal
from laura.web import forms
from laura.web.i18n import N_
from laura.web.routes.console.access import ConsoleNotFound, ConsoleStaff
from laura.web.routes.console.paging import paging, query_choice
from laura.web.routes.console.sections import console_page

router = APIRouter(include_in_schema=False)

DONE = {
    "assigned": N_("The ticket is yours now."),
    "replied": N_("Your reply was sent to the customer."),
    "moved": N_("The ticket's status changed."),
}
_REFUSED = {
    TicketClosed.error: N_("This ticket is closed: it takes no more replies or changes."),
    InvalidTicketTransition.error: N_("The ticket cannot move to that status from where it is."),
}
_STATUSES = tuple(s.value for s in TicketStatus)


@router.get("/ops/support", response_class=HTMLResponse)
async def queue(request: Request, staff: ConsoleStaff, session: SessionDep) -> Response:
    status = query_choice(request, "status", _STATUSES)
    at = paging(request)
    mine = request.query_params.get("mine") == "1"
    tickets, total = await support.queue(
        session,
        status=status,
        priority=None,
        assigned_to=staff.id if mine else None,
        offset=at.offset,
        limit=at.size,
        now=utcnow(),
    )
    extra = (f"&status={status}" if status else "") + ("&mine=1" if mine else "")
    return console_page(
        request,
        "console/support.html",
        tickets=tickets,
        total=total,
        status=status,
        mine=mine,
        statuses=_STATUSES,
        at=at,
        pages=at.pages(total),
        extra=extra,
    )


async def _ticket_page(
    request: Request,
    staff: Principal,
    session: SessionDep,
    ticket_id: uuid.UUID,
    *,
    errors: forms.FormErrors | None = None,
    status_code: int = 200,
    reply: str = "",
) -> Response:
    try:
        ticket = await support.get_ticket(session, staff, ticket_id, now=utcnow())
    except TicketNotFound as error:
        raise ConsoleNotFound() from error
    moves = sorted(TRANSITIONS[TicketStatus(ticket.status)])
    return console_page(
        request,
        "console/ticket.html",
        status_code=status_code,
        ticket=ticket,
        moves=[m.value for m in moves],
        values={"message": reply},
        errors=errors or forms.FormErrors(),
        done=DONE.get(request.query_params.get("done", "")),
    )


@router.get("/ops/support/{ticket_id}", response_class=HTMLResponse)
async def ticket(
    request: Request, ticket_id: uuid.UUID, staff: ConsoleStaff, session: SessionDep
) -> Response:
    return await _ticket_page(request, staff, session, ticket_id)


def _refusal(error: AppError, field: str) -> forms.FormErrors:
    errors = forms.FormErrors()
    errors.add(field, _REFUSED.get(error.error, N_("Something went wrong. Please try again.")))
    return errors


@router.post("/ops/support/{ticket_id}/assign", response_class=HTMLResponse)
async def assign(
    request: Request, ticket_id: uuid.UUID, staff: ConsoleStaff, session: SessionDep
) -> Response:
    try:
        await support.assign(session, staff, ticket_id, staff.id, now=utcnow())
    except TicketNotFound as error:
        raise ConsoleNotFound() from error
    except AppError as error:
        return await _ticket_page(
            request, staff, session, ticket_id, errors=_refusal(error, "_form"), status_code=error.status
        )
    return RedirectResponse(f"/ops/support/{ticket_id}?done=assigned", status_code=303)


@router.post("/ops/support/{ticket_id}/reply", response_class=HTMLResponse)
async def reply(request: Request, ticket_id: uuid.UUID, staff: ConsoleStaff, session: SessionDep) -> Response:
    text = str((await request.form()).get("message", "")).strip()
    try:
        body = MessageRequest(message=text)
    except ValidationError:
        errors = forms.FormErrors()
        errors.add("message", N_("Write a reply of up to 10000 characters."))
        return await _ticket_page(
            request, staff, session, ticket_id, errors=errors, status_code=422, reply=text
        )
    try:
        await support.add_message(session, staff, ticket_id, body, now=utcnow())
    except TicketNotFound as error:
        raise ConsoleNotFound() from error
    except AppError as error:
        return await _ticket_page(
            request,
            staff,
            session,
            ticket_id,
            errors=_refusal(error, "_form"),
            status_code=error.status,
            reply=text,
        )
    return RedirectResponse(f"/ops/support/{ticket_id}?done=replied", status_code=303)


@router.post("/ops/support/{ticket_id}/status", response_class=HTMLResponse)
async def move(request: Request, ticket_id: uuid.UUID, staff: ConsoleStaff, session: SessionDep) -> Response:
    target = str((await request.form()).get("status", ""))
    if target not in _STATUSES:
        return await _ticket_page(
            request,
            staff,
            session,
            ticket_id,
            errors=_refusal(InvalidTicketTransition(), "_form"),
            status_code=422,
        )
    try:
        await support.set_status(session, staff, ticket_id, TicketStatus(target), now=utcnow())
    except TicketNotFound as error:
        raise ConsoleNotFound() from error
    except AppError as error:
        return await _ticket_page(
            request, staff, session, ticket_id, errors=_refusal(error, "_form"), status_code=error.status
        )
    return RedirectResponse(f"/ops/support/{ticket_id}?done=moved", status_code=303)
