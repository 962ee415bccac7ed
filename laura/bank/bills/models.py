"""Bill (boleto) payments, and the slips the bank knows as registered (recipient, payment limit)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, Date, DateTime, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from laura.core.db import Base
from laura.core.models import CreatedAt, UUIDPk
from laura.core.money import from_cents


class RegisteredBill(Base):
    __tablename__ = "registered_bills"

    id: Mapped[UUIDPk]
    barcode: Mapped[str] = mapped_column(String(44), unique=True)
    recipient: Mapped[str] = mapped_column(String(255))
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    due_date: Mapped[date | None] = mapped_column(Date)
    payment_limit: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[CreatedAt]


class BillPaymentStatus(StrEnum):
    """A boleto payment: SCHEDULED for its date, then COMPLETED or FAILED (paid now: COMPLETED at once)."""

    SCHEDULED = "SCHEDULED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class BillPayment(Base):
    __tablename__ = "bill_payments"

    id: Mapped[UUIDPk]
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    barcode: Mapped[str] = mapped_column(String(44))
    digitable_line: Mapped[str] = mapped_column(String(48))
    type: Mapped[str] = mapped_column(String(7))
    bank_code: Mapped[str | None] = mapped_column(String(3))
    recipient: Mapped[str | None] = mapped_column(String(255))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    due_date: Mapped[date | None] = mapped_column(Date)
    payment_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(9))
    receipt: Mapped[str] = mapped_column(String(24), unique=True)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    ledger_transaction_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[CreatedAt]
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def amount(self) -> Decimal:
        """The amount as the wire shows it (the column keeps integer cents)."""
        return from_cents(self.amount_cents)
