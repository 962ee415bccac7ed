"""Pix on our side of the PSP: charges we issued, Pix we send, webhook deliveries and financial events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from laura.core.db import Base
from laura.core.models import CreatedAt
from laura.core.money import from_cents
from laura.pix.qr import qr_data_url


class PixChargeStatus(StrEnum):
    ACTIVE = "ACTIVE"
    PAID = "PAID"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"


class PixSendStatus(StrEnum):
    PROCESSING = "PROCESSING"
    DONE = "DONE"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class PaidCharge:
    """A charge just paid, as the intake reports it to its purpose's hook (the columns a hook may need,
    without building an ORM instance on the webhook's hot path)."""

    txid: str
    purpose: str
    entity_id: str
    owner_id: uuid.UUID
    amount_cents: int
    e2e_id: str
    created_at: datetime


class PixCharge(Base):
    """A charge (`cob`) created at the PSP with our txid, for one entity of one feature (`purpose`)."""

    __tablename__ = "pix_charges"

    txid: Mapped[str] = mapped_column(String(35), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(128))
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(9), default=PixChargeStatus.ACTIVE)
    description: Mapped[str | None] = mapped_column(Text)
    pix_copia_e_cola: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    e2e_id: Mapped[str | None] = mapped_column(String(35), unique=True)
    review_reason: Mapped[str | None] = mapped_column(String(32))
    """Set when a Pix for this charge needs a person (amount mismatch, paid while not active)."""
    created_at: Mapped[CreatedAt]

    @property
    def amount(self) -> Decimal:
        """The amount as the wire shows it (the column keeps integer cents)."""
        return from_cents(self.amount_cents)

    @property
    def qr_code(self) -> str:
        """The BR Code as a PNG data URL, drawn when read."""
        return qr_data_url(self.pix_copia_e_cola)


class PixSend(Base):
    """A Pix we send (payouts, external transfers), recorded before the PSP hears of it."""

    __tablename__ = "pix_sends"

    id_envio: Mapped[str] = mapped_column(String(35), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(128))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    payee_key: Mapped[str] = mapped_column(String(77))
    description: Mapped[str | None] = mapped_column(String(140))
    status: Mapped[str] = mapped_column(String(10), default=PixSendStatus.PROCESSING)
    e2e_id: Mapped[str | None] = mapped_column(String(35), unique=True)
    error: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[CreatedAt]


class WebhookDelivery(Base):
    """One authenticated POST from the PSP, raw, unique by its SHA-256."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), default="efi")
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    auth: Mapped[str] = mapped_column(String(4))
    pix_count: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    """Why an unreadable delivery was refused; None when it was read (see its `financial_events`)."""
    received_at: Mapped[CreatedAt]


class FinancialEvent(Base):
    """One Pix the PSP told us about; its unique `external_id` (the e2eId) makes it count once."""

    __tablename__ = "financial_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(35), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(9))
    reason: Mapped[str | None] = mapped_column(String(32))
    txid: Mapped[str | None] = mapped_column(String(35))
    id_envio: Mapped[str | None] = mapped_column(String(35))
    purpose: Mapped[str | None] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(128))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(14))
    delivery_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("webhook_deliveries.id", ondelete="SET NULL")
    )
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[CreatedAt]
