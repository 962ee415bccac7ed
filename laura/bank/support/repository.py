"""Queries on support tickets, their messages, attachments and number counter."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.files.models import StoredFile
from laura.bank.support.models import Ticket, TicketAttachment, TicketMessage, TicketStatus
from laura.identity.models import User

STAFF_ROLES = ("staff", "admin")

_NEXT_NUMBER = text(
    """
    INSERT INTO support_ticket_counters AS c (year, last_number) VALUES (:year, 1)
    ON CONFLICT (year) DO UPDATE SET last_number = c.last_number + 1
    RETURNING last_number
    """
)


class SupportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_number(self, year: int) -> int:
        """The year's next ticket number; the counter's row stays locked until this transaction ends, so
        concurrent creators take numbers one after another and a rollback gives its number back."""
        return int((await self.session.execute(_NEXT_NUMBER, {"year": year})).scalar_one())

    async def add(self, *rows: Any) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def get(self, ticket_id: uuid.UUID, *, lock: bool = False) -> Ticket | None:
        """The ticket by id; `lock` serializes its changes (status, assignment, messages)."""
        query = select(Ticket).where(Ticket.id == ticket_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def _page(self, query: Select[Ticket], offset: int, limit: int) -> tuple[Sequence[Ticket], int]:
        total = (await self.session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = (await self.session.execute(query.offset(offset).limit(limit))).scalars().all()
        return rows, int(total)

    async def owned(
        self,
        user_id: uuid.UUID,
        *,
        status: str | None,
        priority: str | None,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Ticket], int]:
        """The customer's tickets, newest first, and how many there are."""
        query = select(Ticket).where(Ticket.user_id == user_id)
        if status is not None:
            query = query.where(Ticket.status == status)
        if priority is not None:
            query = query.where(Ticket.priority == priority)
        return await self._page(query.order_by(Ticket.created_at.desc(), Ticket.id.desc()), offset, limit)

    async def queue(
        self,
        *,
        status: str | None,
        priority: str | None,
        assigned_to: uuid.UUID | None,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Ticket], int]:
        """Every customer's tickets by SLA deadline (then age); without `status`, all but CLOSED ones."""
        query = select(Ticket)
        if status is not None:
            query = query.where(Ticket.status == status)
        else:
            query = query.where(Ticket.status != TicketStatus.CLOSED)
        if priority is not None:
            query = query.where(Ticket.priority == priority)
        if assigned_to is not None:
            query = query.where(Ticket.assigned_to == assigned_to)
        order = (Ticket.first_response_due_at, Ticket.created_at, Ticket.id)
        return await self._page(query.order_by(*order), offset, limit)

    async def messages(self, ticket_id: uuid.UUID) -> Sequence[TicketMessage]:
        query = (
            select(TicketMessage)
            .where(TicketMessage.ticket_id == ticket_id)
            .order_by(TicketMessage.created_at, TicketMessage.id)
        )
        return (await self.session.execute(query)).scalars().all()

    async def attachments(self, ticket_id: uuid.UUID) -> Sequence[tuple[uuid.UUID | None, StoredFile]]:
        """(message id or None for the opening, file) of every file on the ticket, in attaching order."""
        query = (
            select(TicketAttachment.message_id, StoredFile)
            .join(StoredFile, StoredFile.id == TicketAttachment.file_id)
            .where(TicketAttachment.ticket_id == ticket_id)
            .order_by(TicketAttachment.id)
        )
        return [(message_id, stored) for message_id, stored in (await self.session.execute(query)).tuples()]

    async def attach(
        self, ticket_id: uuid.UUID, message_id: uuid.UUID | None, files: Sequence[StoredFile]
    ) -> None:
        await self.add(
            *(TicketAttachment(ticket_id=ticket_id, message_id=message_id, file_id=f.id) for f in files)
        )

    async def file_attached(self, file_id: uuid.UUID) -> bool:
        query = select(exists().where(TicketAttachment.file_id == file_id))
        return bool((await self.session.execute(query)).scalar_one())

    async def is_staff(self, user_id: uuid.UUID) -> bool:
        query = select(exists().where(User.id == user_id, User.role.in_(STAFF_ROLES), User.is_active))
        return bool((await self.session.execute(query)).scalar_one())

    async def resolved_before(self, cutoff: datetime, limit: int) -> Sequence[Ticket]:
        """Up to `limit` tickets RESOLVED before `cutoff`, locked; rows another transaction holds are skipped
        (they are being changed: the next run sees them). None has a customer message since: a reply moves
        a RESOLVED ticket back to IN_PROGRESS, and resolving it again sets a new `resolved_at`."""
        query = (
            select(Ticket)
            .where(Ticket.status == TicketStatus.RESOLVED, Ticket.resolved_at < cutoff)
            .order_by(Ticket.resolved_at, Ticket.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(query)).scalars().all()
