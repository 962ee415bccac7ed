"""Wire shapes of support (spec 5.1-5.3), camelCase like every schema; attachments as uploaded files."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import Field

from laura.bank.files.schemas import FileId, FileOut
from laura.bank.support.models import Priority, TicketStatus
from laura.core.schemas import ApiModel, RequestModel, UtcDatetime

if TYPE_CHECKING:
    from laura.bank.files.models import StoredFile
    from laura.bank.support.models import Ticket, TicketMessage

MAX_ATTACHMENTS = 10


class TicketRequest(RequestModel):
    category: str = Field(max_length=50)
    """Checked by the service, so an unknown one is the spec's 400 INVALID_CATEGORY."""
    priority: Priority
    subject: str = Field(min_length=1, max_length=255)
    description: str = Field(min_length=1, max_length=10_000)
    attachments: list[FileId] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    """Ids of files the caller uploaded (`POST /api/files`)."""


class MessageRequest(RequestModel):
    message: str = Field(min_length=1, max_length=10_000)
    attachments: list[FileId] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class AssignRequest(RequestModel):
    staff_id: uuid.UUID


class StatusRequest(RequestModel):
    status: TicketStatus


class TicketSummary(ApiModel):
    """A ticket as listed (the customer's list and the staff queue)."""

    id: uuid.UUID
    number: str
    status: str
    category: str
    priority: str
    subject: str
    user_id: uuid.UUID
    assigned_to: uuid.UUID | None = None
    first_response_due_at: UtcDatetime
    first_response_at: UtcDatetime | None = None
    overdue: bool
    """The SLA was missed: no staff answer by `firstResponseDueAt`, or one that came after it."""
    created_at: UtcDatetime
    updated_at: UtcDatetime
    resolved_at: UtcDatetime | None = None
    closed_at: UtcDatetime | None = None

    @classmethod
    def of(cls, ticket: Ticket, now: datetime) -> TicketSummary:
        return cls(
            id=ticket.id,
            number=ticket.ticket_number,
            status=ticket.status,
            category=ticket.category,
            priority=ticket.priority,
            subject=ticket.subject,
            user_id=ticket.user_id,
            assigned_to=ticket.assigned_to,
            first_response_due_at=ticket.first_response_due_at,
            first_response_at=ticket.first_response_at,
            overdue=ticket.overdue(now),
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            resolved_at=ticket.resolved_at,
            closed_at=ticket.closed_at,
        )


class TicketOut(TicketSummary):
    """A ticket with its description and the files it was opened with."""

    description: str
    attachments: list[FileOut]

    @classmethod
    def full(cls, ticket: Ticket, now: datetime, files: list[StoredFile]) -> TicketOut:
        return cls(
            **TicketSummary.of(ticket, now).model_dump(),
            description=ticket.description,
            attachments=[FileOut.model_validate(f) for f in files],
        )


class MessageOut(ApiModel):
    id: uuid.UUID
    ticket_id: uuid.UUID
    message: str
    author_type: str
    created_at: UtcDatetime
    attachments: list[FileOut]

    @classmethod
    def of(cls, message: TicketMessage, files: list[StoredFile]) -> MessageOut:
        return cls(
            id=message.id,
            ticket_id=message.ticket_id,
            message=message.message,
            author_type=message.author_type,
            created_at=message.created_at,
            attachments=[FileOut.model_validate(f) for f in files],
        )


class TicketDetail(TicketOut):
    messages: list[MessageOut]
