"""A payout: money a driver asked for, held on their ledger account until the Pix to their key settles."""

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


class PayoutStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


TRANSITIONS: dict[PayoutStatus, frozenset[PayoutStatus]] = {
    PayoutStatus.PENDING: frozenset({PayoutStatus.PROCESSING}),
    PayoutStatus.PROCESSING: frozenset({PayoutStatus.COMPLETED, PayoutStatus.FAILED}),
    PayoutStatus.COMPLETED: frozenset(),
    PayoutStatus.FAILED: frozenset(),
}
"""Every move a payout may make: the job sends it (PROCESSING), the PSP's word ends it."""

COUNTED_IN_LIMITS = (PayoutStatus.PENDING, PayoutStatus.PROCESSING, PayoutStatus.COMPLETED)
"""The payouts the daily and weekly limits add up: all but the failed ones (their money came back)."""


def can_move(current: str, new: PayoutStatus) -> bool:
    return new in TRANSITIONS[PayoutStatus(current)]


class Payout(Base):
    """One payout request; its ledger hold ('payout:<id>') is the money, its Pix send the way out."""

    __tablename__ = "payouts"

    id: Mapped[UUIDPk]
    driver_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("drivers.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default=PayoutStatus.PENDING)
    pix_key: Mapped[str] = mapped_column(String(77))
    """The driver's key when they asked: a key changed afterwards does not redirect this payout."""
    pix_key_type: Mapped[str] = mapped_column(String(8))
    hold_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("ledger_transactions.id"))
    id_envio: Mapped[str | None] = mapped_column(String(35), ForeignKey("pix_sends.id_envio"), unique=True)
    e2e_id: Mapped[str | None] = mapped_column(String(35))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Set when the Pix key changed recently: the payout is sent no earlier than this."""
    created_at: Mapped[CreatedAt]
    processing_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def amount(self) -> Decimal:
        return from_cents(self.amount_cents)
