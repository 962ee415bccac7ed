"""Support tickets: opened by a customer with a per-year gap-free number, answered on both sides, moved
through their statuses by staff (`states.TRANSITIONS`), and closed by themselves once resolved and quiet.

A customer sees only their tickets (another's is TICKET_NOT_FOUND); staff and admins see every ticket, and
a message's author type is STAFF when the author is not the ticket's customer. Every change locks the
ticket's row first, so a reply and a status change sent together apply one after the other. The customer
is told (events) of every staff message and every status change; creations, assignments and status
changes are audited (never the subject, description or messages).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.bank.files import service as files
from laura.bank.files.models import StoredFile
from laura.bank.support.errors import (
    InvalidCategory,
    InvalidTicketTransition,
    StaffNotFound,
    TicketClosed,
    TicketNotFound,
)
from laura.bank.support.models import AuthorType, Category, Ticket, TicketMessage, TicketStatus
from laura.bank.support.policy import SupportPolicy
from laura.bank.support.repository import STAFF_ROLES, SupportRepository
from laura.bank.support.schemas import (
    MessageOut,
    MessageRequest,
    TicketDetail,
    TicketOut,
    TicketRequest,
    TicketSummary,
)
from laura.bank.support.states import REOPENED_BY_REPLY, can_move
from laura.bank.transfers.calendar import brasilia_day
from laura.core.events import publish
from laura.core.models import uuid7
from laura.identity.service import Principal

AUTO_CLOSE_BATCH = 500


def ticket_number(year: int, number: int) -> str:
    return f"TKT-{year}-{number:05d}"


def _public(ticket: Ticket) -> dict[str, object]:
    """What audit rows and events say of a ticket: never its subject, description or messages."""
    return {
        "ticketId": str(ticket.id),
        "number": ticket.ticket_number,
        "status": ticket.status,
        "priority": ticket.priority,
    }


async def create_ticket(
    session: AsyncSession, policy: SupportPolicy, user_id: uuid.UUID, data: TicketRequest, *, now: datetime
) -> TicketOut:
    """A new OPEN ticket numbered TKT-<Brasília year>-<n>, due a first answer within its priority's SLA."""
    if data.category not in Category.__members__:
        raise InvalidCategory()
    attached = await files.attachable(session, user_id, data.attachments)
    repo = SupportRepository(session)
    year = brasilia_day(now).year
    number = await repo.next_number(year)  # last: the counter's row lock is held until the commit
    ticket = Ticket(
        id=uuid7(),
        user_id=user_id,
        ticket_number=ticket_number(year, number),
        category=data.category,
        priority=data.priority,
        subject=data.subject,
        description=data.description,
        status=TicketStatus.OPEN,
        first_response_due_at=now + policy.due(data.priority),
        created_at=now,
        updated_at=now,
    )
    await repo.add(ticket)
    await repo.attach(ticket.id, None, attached)
    audit.record(
        session,
        action="TICKET_CREATED",
        resource_type="support_ticket",
        resource_id=str(ticket.id),
        new={**_public(ticket), "category": ticket.category},
    )
    return TicketOut.full(ticket, now, list(attached))


async def list_tickets(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    status: str | None,
    priority: str | None,
    offset: int,
    limit: int,
    now: datetime,
) -> tuple[list[TicketSummary], int]:
    rows, total = await SupportRepository(session).owned(
        user_id, status=status, priority=priority, offset=offset, limit=limit
    )
    return [TicketSummary.of(ticket, now) for ticket in rows], total


async def queue(
    session: AsyncSession,
    *,
    status: str | None,
    priority: str | None,
    assigned_to: uuid.UUID | None,
    offset: int,
    limit: int,
    now: datetime,
) -> tuple[list[TicketSummary], int]:
    rows, total = await SupportRepository(session).queue(
        status=status, priority=priority, assigned_to=assigned_to, offset=offset, limit=limit
    )
    return [TicketSummary.of(ticket, now) for ticket in rows], total


async def _visible(
    session: AsyncSession, caller: Principal, ticket_id: uuid.UUID, *, lock: bool = False
) -> Ticket:
    """The ticket for its customer or for staff; 404 TICKET_NOT_FOUND for anyone else."""
    ticket = await SupportRepository(session).get(ticket_id, lock=lock)
    if ticket is None or (ticket.user_id != caller.id and caller.role not in STAFF_ROLES):
        raise TicketNotFound()
    return ticket


async def get_ticket(
    session: AsyncSession, caller: Principal, ticket_id: uuid.UUID, *, now: datetime
) -> TicketDetail:
    """The ticket with its messages, oldest first, and every file on it."""
    ticket = await _visible(session, caller, ticket_id)
    repo = SupportRepository(session)
    by_message: dict[uuid.UUID | None, list[StoredFile]] = {}
    for message_id, stored in await repo.attachments(ticket.id):
        by_message.setdefault(message_id, []).append(stored)
    messages = [MessageOut.of(m, by_message.get(m.id, [])) for m in await repo.messages(ticket.id)]
    opening = TicketOut.full(ticket, now, by_message.get(None, []))
    return TicketDetail(**opening.model_dump(), messages=messages)


async def _move(
    session: AsyncSession, ticket: Ticket, target: TicketStatus, *, now: datetime, actor_id: uuid.UUID | None
) -> None:
    """Apply one move of the state table: its timestamps, audit row and the customer's event."""
    old = ticket.status
    if not can_move(old, target):
        raise InvalidTicketTransition(f"{old} -> {target} is not allowed")
    ticket.status = target
    ticket.updated_at = now
    if target == TicketStatus.RESOLVED:
        ticket.resolved_at = now
    if target == TicketStatus.CLOSED:
        ticket.closed_at = now
    await session.flush()
    audit.record(
        session,
        action="TICKET_STATUS_CHANGED",
        resource_type="support_ticket",
        resource_id=str(ticket.id),
        old={"status": old},
        new={"status": target},
        actor_id=actor_id,
    )
    await publish(
        session,
        "support.status_changed",
        {**_public(ticket), "previousStatus": old},
        user_ids=[ticket.user_id],
    )


async def add_message(
    session: AsyncSession, caller: Principal, ticket_id: uuid.UUID, data: MessageRequest, *, now: datetime
) -> MessageOut:
    """A message from the ticket's customer (USER) or from staff (STAFF); a CLOSED ticket takes none.

    The first staff message answers the SLA (`first_response_at`) and moves an OPEN ticket to IN_PROGRESS
    (someone is on it); a customer's reply to a WAITING or RESOLVED ticket moves it back to IN_PROGRESS."""
    ticket = await _visible(session, caller, ticket_id, lock=True)
    if ticket.status == TicketStatus.CLOSED:
        raise TicketClosed()
    attached = await files.attachable(session, caller.id, data.attachments)
    author = AuthorType.USER if ticket.user_id == caller.id else AuthorType.STAFF
    message = TicketMessage(
        id=uuid7(),
        ticket_id=ticket.id,
        author_id=caller.id,
        author_type=author,
        message=data.message,
        created_at=now,
    )
    repo = SupportRepository(session)
    await repo.add(message)
    await repo.attach(ticket.id, message.id, attached)
    ticket.updated_at = now
    if author == AuthorType.STAFF:
        if ticket.first_response_at is None:
            ticket.first_response_at = now
        await publish(
            session,
            "support.message",
            {**_public(ticket), "messageId": str(message.id), "authorType": author},
            user_ids=[ticket.user_id],
        )
        if ticket.status == TicketStatus.OPEN:
            await _move(session, ticket, TicketStatus.IN_PROGRESS, now=now, actor_id=caller.id)
    elif ticket.status in REOPENED_BY_REPLY:
        await _move(session, ticket, TicketStatus.IN_PROGRESS, now=now, actor_id=caller.id)
    await session.flush()
    return MessageOut.of(message, list(attached))


async def assign(
    session: AsyncSession, staff: Principal, ticket_id: uuid.UUID, staff_id: uuid.UUID, *, now: datetime
) -> TicketSummary:
    """Give the ticket to a staff member (or admin); 422 STAFF_NOT_FOUND for anyone else."""
    ticket = await _visible(session, staff, ticket_id, lock=True)
    if ticket.status == TicketStatus.CLOSED:
        raise TicketClosed()
    if not await SupportRepository(session).is_staff(staff_id):
        raise StaffNotFound()
    if ticket.assigned_to != staff_id:
        old = ticket.assigned_to
        ticket.assigned_to = staff_id
        ticket.updated_at = now
        await session.flush()
        audit.record(
            session,
            action="TICKET_ASSIGNED",
            resource_type="support_ticket",
            resource_id=str(ticket.id),
            old={"assignedTo": str(old) if old else None},
            new={"assignedTo": str(staff_id)},
        )
    return TicketSummary.of(ticket, now)


async def set_status(
    session: AsyncSession, staff: Principal, ticket_id: uuid.UUID, target: TicketStatus, *, now: datetime
) -> TicketSummary:
    """Move the ticket (`states.TRANSITIONS`): 409 TICKET_CLOSED once closed, 409 INVALID_TICKET_TRANSITION
    for a move the table does not have; its current status answers it unchanged."""
    ticket = await _visible(session, staff, ticket_id, lock=True)
    if ticket.status == TicketStatus.CLOSED:
        raise TicketClosed()
    if ticket.status != target:
        await _move(session, ticket, target, now=now, actor_id=staff.id)
    return TicketSummary.of(ticket, now)


async def auto_close(session: AsyncSession, policy: SupportPolicy, *, now: datetime) -> int:
    """Close a batch of RESOLVED tickets resolved longer than `auto_close_after` ago with no customer
    message since; returns how many (a second run over the same tickets closes none)."""
    due = await SupportRepository(session).resolved_before(now - policy.auto_close_after, AUTO_CLOSE_BATCH)
    for ticket in due:
        await _move(session, ticket, TicketStatus.CLOSED, now=now, actor_id=None)
    return len(due)
