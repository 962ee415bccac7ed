"""A ride's payment intent: the fare asked for, the Pix charge that pays it, and the split fixed with it."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from laura.core.db import Base
from laura.core.models import CreatedAt, UUIDPk
from laura.core.money import from_cents


class IntentPurpose(StrEnum):
    """What an intent asks for: a completed ride's fare, or the fee of a late cancellation."""

    RIDE = "RIDE"
    CANCELLATION_FEE = "CANCELLATION_FEE"


class IntentStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"


class PaymentIntent(Base):
    """One request for a ride's fare or cancellation fee; at most one PENDING per ride (a partial unique
    index)."""

    __tablename__ = "payment_intents"

    id: Mapped[UUIDPk]
    ride_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("rides.id"))
    purpose: Mapped[str] = mapped_column(String(16), default=IntentPurpose.RIDE)
    payer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    driver_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("drivers.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    commission_cents: Mapped[int] = mapped_column(BigInteger)
    """The platform's share, fixed when the fare is asked for; the driver gets amount - commission."""
    status: Mapped[str] = mapped_column(String(10), default=IntentStatus.PENDING)
    txid: Mapped[str | None] = mapped_column(String(35), ForeignKey("pix_charges.txid"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[CreatedAt]
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def amount(self) -> Decimal:
        return from_cents(self.amount_cents)


class RefundStatus(StrEnum):
    OPEN = "OPEN"
    """Booked as owed (2300 REEMBOLSOS_A_PAGAR) and waiting for a person to refund the payer."""
    REFUNDED = "REFUNDED"


class PaymentRefund(Base):
    """A review item for ops: a Pix received for a ride that must not pay it (again), owed back to its
    payer; one per e2eId, written by `mobility_ride_refund_due` (sql/refund.sql)."""

    __tablename__ = "payment_refunds"

    id: Mapped[UUIDPk]
    e2e_id: Mapped[str] = mapped_column(String(35), unique=True)
    ride_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("rides.id"))
    intent_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("payment_intents.id"))
    txid: Mapped[str] = mapped_column(String(35), ForeignKey("pix_charges.txid"))
    payer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))
    """A `RefundReason`."""
    status: Mapped[str] = mapped_column(String(10), default=RefundStatus.OPEN)
    created_at: Mapped[CreatedAt]
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)

    @property
    def amount(self) -> Decimal:
        return from_cents(self.amount_cents)
