"""Transfers (P2P, Pix, TED): what the customer asked for, its status, and the ledger movement behind it."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from laura.bank.spending.categories import SpendingCategory
from laura.core.db import Base
from laura.core.models import CreatedAt, UUIDPk
from laura.core.money import from_cents


class TransferStatus(StrEnum):
    """A transfer's life: SCHEDULED (waiting for its date), PENDING (money held while the PSP or the
    clearing has it), then COMPLETED, FAILED or CANCELLED; values are the wire and database spelling."""

    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class Transfer(Base):
    __tablename__ = "transfers"

    id: Mapped[UUIDPk]
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    type: Mapped[str] = mapped_column(String(3))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    fee_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(9))
    description: Mapped[str | None] = mapped_column(Text)
    pix_key: Mapped[str | None] = mapped_column(String(77))
    pix_key_type: Mapped[str | None] = mapped_column(String(5))
    recipient_user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    recipient_name: Mapped[str | None] = mapped_column(String(255))
    recipient_document: Mapped[str | None] = mapped_column(String(14))
    bank_code: Mapped[str | None] = mapped_column(String(3))
    agency: Mapped[str | None] = mapped_column(String(5))
    account: Mapped[str | None] = mapped_column(String(13))
    account_type: Mapped[str | None] = mapped_column(String(8))
    e2e_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    scheduled_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    estimated_delivery: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[CreatedAt]
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    ledger_transaction_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    hold_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    category: Mapped[str | None] = mapped_column(String(20))
    """The spending category the customer tagged it with (`SpendingCategory`); None counts as TRANSFERS."""

    @property
    def amount(self) -> Decimal:
        """The amount as the wire shows it (the column keeps integer cents)."""
        return from_cents(self.amount_cents)

    @property
    def spending_category(self) -> str:
        """The category its money counts in for spending (`laura.bank.spending.query` says the same in SQL)."""
        return self.category or SpendingCategory.TRANSFERS

    @property
    def fee(self) -> Decimal:
        return from_cents(self.fee_cents)
