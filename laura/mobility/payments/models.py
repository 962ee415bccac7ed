"""A ride's payment intent: the fare asked for, the Pix charge that pays it, and the split fixed with it."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, ForeignKey, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from laura.core.db import Base
from laura.core.models import CreatedAt, UUIDPk
from laura.core.money import from_cents


class IntentStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"


class PaymentIntent(Base):
    """One request for a ride's fare; at most one PENDING per ride (a partial unique index)."""

    __tablename__ = "payment_intents"

    id: Mapped[UUIDPk]
    ride_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("rides.id"))
    purpose: Mapped[str] = mapped_column(String(16), default="RIDE")
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
