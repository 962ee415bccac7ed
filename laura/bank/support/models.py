"""Support tickets, their messages and attachments, and the per-year number counter (migration 0026)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Integer, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from laura.bank.files import models as _files  # noqa: F401 - files, which attachments reference
from laura.core.db import Base
from laura.core.models import CreatedAt, UUIDPk, utcnow
from laura.identity import models as _identity  # noqa: F401 - users, which tickets reference


class Category(StrEnum):
    ACCOUNT = "ACCOUNT"
    CARD = "CARD"
    TRANSFER = "TRANSFER"
    BILL = "BILL"
    TECHNICAL = "TECHNICAL"
    OTHER = "OTHER"


class Priority(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    URGENT = "URGENT"


class TicketStatus(StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    WAITING = "WAITING"
    """Waiting on the customer: their reply moves the ticket back to IN_PROGRESS."""
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"


class AuthorType(StrEnum):
    USER = "USER"
    STAFF = "STAFF"


class TicketCounter(Base):
    """The last number given in a Brasília year; incremented under its row lock by each new ticket."""

    __tablename__ = "support_ticket_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class Ticket(Base):
    __tablename__ = "support_tickets"

    id: Mapped[UUIDPk]
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    ticket_number: Mapped[str] = mapped_column(String(20), unique=True)
    category: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=TicketStatus.OPEN)
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    first_response_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """created_at + the priority's SLA: when the first staff answer is due."""
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def overdue(self, now: datetime) -> bool:
        """The SLA was missed: the first staff answer came after its deadline, or has not come by it (a ticket
        closed unanswered is judged at its closing). Once missed, it stays missed."""
        answered_or_stopped = self.first_response_at or self.closed_at or now
        return answered_or_stopped > self.first_response_due_at


class TicketMessage(Base):
    __tablename__ = "ticket_messages"

    id: Mapped[UUIDPk]
    ticket_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("support_tickets.id"))
    author_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    author_type: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[CreatedAt]


class TicketAttachment(Base):
    """A file on a ticket: with the message it came with, or none for the ticket's opening."""

    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    ticket_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("support_tickets.id"))
    message_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("ticket_messages.id"))
    file_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("files.id"))
