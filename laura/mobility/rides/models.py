"""Rides, the offers each dispatch round sends, accept attempts (idempotency) and ratings."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, Numeric, SmallInteger, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from laura.core.db import Base
from laura.core.models import CreatedAt, UUIDPk, utcnow

_Coordinate = Numeric(11, 8, asdecimal=False)


class Ride(Base):
    """One trip from request to completion; `version` is bumped by every transition (optimistic locking)."""

    __tablename__ = "rides"

    id: Mapped[UUIDPk]
    passenger_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("passengers.id"))
    driver_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("drivers.id"))
    status: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(16))
    pickup_lat: Mapped[float] = mapped_column(_Coordinate)
    pickup_lon: Mapped[float] = mapped_column(_Coordinate)
    pickup_h3: Mapped[int] = mapped_column(BigInteger)
    dropoff_lat: Mapped[float] = mapped_column(_Coordinate)
    dropoff_lon: Mapped[float] = mapped_column(_Coordinate)
    estimated_distance_m: Mapped[int] = mapped_column(Integer)
    estimated_duration_s: Mapped[int] = mapped_column(Integer)
    surge_multiplier: Mapped[Decimal] = mapped_column(Numeric(3, 1))
    estimated_fare: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    final_fare: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    final_distance_m: Mapped[int | None] = mapped_column(Integer)
    final_duration_s: Mapped[int | None] = mapped_column(Integer)
    fare_basis: Mapped[str | None] = mapped_column(String(8))
    cancellation_fee: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    canceled_by: Mapped[str | None] = mapped_column(String(16))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancellation_rule: Mapped[str | None] = mapped_column(String(24))
    expire_reason: Mapped[str | None] = mapped_column(String(24))
    dispatch_round: Mapped[int] = mapped_column(Integer, default=0)
    dispatch_round_base: Mapped[int] = mapped_column(Integer, default=0)
    """`dispatch_round` when the current search began (a driver's cancellation starts a new one)."""
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[CreatedAt]
    status_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    searching_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    offered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    arriving_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    canceled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # SQLAlchemy reads it from the class; its declarative base types it as an instance attribute
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class RideOffer(Base):
    """A ride offered to one driver in one dispatch round, live until it expires or is answered."""

    __tablename__ = "ride_offers"

    id: Mapped[UUIDPk]
    ride_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("rides.id"))
    driver_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("drivers.id"))
    round: Mapped[int] = mapped_column(Integer)
    distance_m: Mapped[int] = mapped_column(Integer)
    eta_s: Mapped[int] = mapped_column(Integer)
    offered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    response: Mapped[str | None] = mapped_column(String(10))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RideAcceptAttempt(Base):
    """One `POST /rides/{id}/accept` per (driver, Idempotency-Key), with the answer it got, for replay."""

    __tablename__ = "ride_accept_attempts"

    id: Mapped[UUIDPk]
    ride_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("rides.id"))
    driver_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("drivers.id"))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(8))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any] = mapped_column(JSONB)
    attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RideRating(Base):
    """One side's stars for the other after a completed ride."""

    __tablename__ = "ride_ratings"

    id: Mapped[UUIDPk]
    ride_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("rides.id"))
    rater_role: Mapped[str] = mapped_column(String(16))
    rater_user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    stars: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[CreatedAt]
