"""Support over HTTP (spec section 5): the customer's tickets and messages, and the staff desk."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from laura.bank.support import (
    hooks,  # noqa: F401 - lets staff read the files attached to tickets
    service,
)
from laura.bank.support.deps import PolicyDep
from laura.bank.support.models import Priority, TicketStatus
from laura.bank.support.schemas import (
    AssignRequest,
    MessageOut,
    MessageRequest,
    StatusRequest,
    TicketDetail,
    TicketOut,
    TicketRequest,
    TicketSummary,
)
from laura.core.db import SessionDep
from laura.core.idempotency import idempotent
from laura.core.models import utcnow
from laura.core.pagination import Page, PageDep
from laura.identity.deps import CurrentUser, StaffUser

router = APIRouter(prefix="/api/support", tags=["support"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "TICKET_NOT_FOUND (another customer's ticket too)"}
}
_STAFF_CHANGE: dict[int | str, dict[str, Any]] = {
    **_NOT_FOUND,
    403: {"description": "FORBIDDEN: staff and admins only"},
    409: {"description": "TICKET_CLOSED, INVALID_TICKET_TRANSITION"},
}
StatusQuery = Annotated[TicketStatus | None, Query(alias="status")]
PriorityQuery = Annotated[Priority | None, Query()]


@router.post(
    "/tickets",
    status_code=status.HTTP_201_CREATED,
    response_model=TicketOut,
    responses={
        400: {"description": "INVALID_CATEGORY"},
        404: {"description": "FILE_NOT_FOUND: an attachment the caller did not upload"},
    },
)
@idempotent()
async def create_ticket(
    body: TicketRequest, user: CurrentUser, session: SessionDep, policy: PolicyDep
) -> TicketOut:
    """Open a ticket: numbered `TKT-<year>-<n>` without gaps, due a first answer within its priority's SLA."""
    return await service.create_ticket(session, policy, user.id, body, now=utcnow())


@router.get("/tickets", response_model=Page[TicketSummary])
async def list_tickets(
    user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    status_: StatusQuery = None,
    priority: PriorityQuery = None,
) -> Page[TicketSummary]:
    """The caller's tickets, newest first."""
    rows, total = await service.list_tickets(
        session,
        user.id,
        status=status_,
        priority=priority,
        offset=page.offset,
        limit=page.limit,
        now=utcnow(),
    )
    return Page[TicketSummary].build(rows, page, total)


@router.get("/tickets/{ticket_id}", response_model=TicketDetail, responses=_NOT_FOUND)
async def get_ticket(ticket_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> TicketDetail:
    """The ticket with its messages and attachments (its customer, or staff)."""
    return await service.get_ticket(session, user, ticket_id, now=utcnow())


@router.post(
    "/tickets/{ticket_id}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageOut,
    responses={
        404: {"description": "TICKET_NOT_FOUND, FILE_NOT_FOUND (an attachment the caller did not upload)"},
        409: {"description": "TICKET_CLOSED"},
    },
)
@idempotent()
async def add_message(
    ticket_id: uuid.UUID, body: MessageRequest, user: CurrentUser, session: SessionDep
) -> MessageOut:
    """A message on the ticket: `authorType` USER from its customer, STAFF from staff."""
    return await service.add_message(session, user, ticket_id, body, now=utcnow())


@router.get("/queue", response_model=Page[TicketSummary], responses={403: {"description": "FORBIDDEN"}})
async def queue(
    _: StaffUser,
    session: SessionDep,
    page: PageDep,
    status_: StatusQuery = None,
    priority: PriorityQuery = None,
    assigned_to: Annotated[uuid.UUID | None, Query(alias="assignedTo")] = None,
) -> Page[TicketSummary]:
    """Every customer's tickets by SLA deadline, then age (staff); without `status`, all but CLOSED ones."""
    rows, total = await service.queue(
        session,
        status=status_,
        priority=priority,
        assigned_to=assigned_to,
        offset=page.offset,
        limit=page.limit,
        now=utcnow(),
    )
    return Page[TicketSummary].build(rows, page, total)


@router.post(
    "/tickets/{ticket_id}/assign",
    response_model=TicketSummary,
    responses={**_STAFF_CHANGE, 422: {"description": "STAFF_NOT_FOUND"}},
)
async def assign(
    ticket_id: uuid.UUID, body: AssignRequest, staff: StaffUser, session: SessionDep
) -> TicketSummary:
    """Give the ticket to a staff member (staff)."""
    return await service.assign(session, staff, ticket_id, body.staff_id, now=utcnow())


@router.post("/tickets/{ticket_id}/status", response_model=TicketSummary, responses=_STAFF_CHANGE)
async def set_status(
    ticket_id: uuid.UUID, body: StatusRequest, staff: StaffUser, session: SessionDep
) -> TicketSummary:
    """Move the ticket: OPEN -> IN_PROGRESS -> WAITING -> RESOLVED -> CLOSED (staff)."""
    return await service.set_status(session, staff, ticket_id, body.status, now=utcnow())
