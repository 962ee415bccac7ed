"""Flags for the ops review, the signals rules count over 24 hours, and who is suspended."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from laura.core.db import Base
from laura.core.models import CreatedAt, UUIDPk


class Rule(StrEnum):
    """What raised a flag (`fraud_flags_total{rule}`)."""

    IMPOSSIBLE_MOVEMENT = "impossible_movement"
    CANCELLATION_ABUSE = "cancellation_abuse"
    CANCELLATION_SUSPENSION = "cancellation_suspension"
    MAX_FARE = "max_fare"
    LONG_ROUTE = "long_route"
    COLLUSION = "collusion"
    PAYOUT_PIX_KEY_CHANGE = "payout_pix_key_change"
    """A payout asked for right after the Pix key changed: delayed, and looked at by a person."""


HOLDING_RULES = (Rule.MAX_FARE, Rule.LONG_ROUTE)
"""Rules whose flag holds the ride's driver share for review (mobility_fraud_hold_share)."""


class Decision(StrEnum):
    """How the review closed a flag: no fraud (a held share is released) or fraud (the hold is posted)."""

    CLEARED = "cleared"
    CONFIRMED = "confirmed"


class FlagStatus(StrEnum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class FraudFlag(Base):
    """One review item for ops: a rule fired on a user (at most once per user, rule and day while open; the
    holding rules once per ride)."""

    __tablename__ = "fraud_flags"

    id: Mapped[UUIDPk]
    subject_user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    rule: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)
    ride_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="OPEN")
    created_at: Mapped[CreatedAt]
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(10))


class FraudSignal(Base):
    """One event a rule counts (a refused movement, a cancellation); the rules read the last 24 hours."""

    __tablename__ = "fraud_signals"

    id: Mapped[UUIDPk]
    subject_user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    rule: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MobilitySuspension(Base):
    """A user barred from requesting and accepting rides until an admin resolves the flag that did it."""

    __tablename__ = "mobility_suspensions"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"), primary_key=True)
    flag_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("fraud_flags.id"))
    reason: Mapped[str] = mapped_column(String(40))
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
