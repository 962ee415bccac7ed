"""Passengers, drivers and their vehicles: the people a ride brings together."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from laura.core.db import Base
from laura.core.models import CreatedAt, UUIDPk, utcnow


class ApprovalStatus(StrEnum):
    """Where a driver's registration stands; only APPROVED drivers go online."""

    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class VehicleStatus(StrEnum):
    """A driver drives their one `active` vehicle (the spec's lower-case spelling, stored as is)."""

    ACTIVE = "active"
    INACTIVE = "inactive"


class Passenger(Base):
    """A `passenger` user's profile, created in the registration transaction."""

    __tablename__ = "passengers"

    id: Mapped[UUIDPk]
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    cpf: Mapped[str | None] = mapped_column(String(11), unique=True)
    average_rating: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_total: Mapped[int] = mapped_column(Integer, default=0)
    total_rides: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[CreatedAt]


def driver_status(online: bool, current_ride_id: uuid.UUID | None) -> str:
    """The spec's driver status (`available`, `on_trip`, `offline`) from the two columns that decide it."""
    if current_ride_id is not None:
        return "on_trip"
    return "available" if online else "offline"


class Driver(Base):
    """A `driver` user's profile: documents, Pix key for payouts, approval and whether they drive now."""

    __tablename__ = "drivers"

    id: Mapped[UUIDPk]
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    cpf: Mapped[str] = mapped_column(String(11), unique=True)
    cnh_number: Mapped[str] = mapped_column(String(11), unique=True)
    pix_key: Mapped[str] = mapped_column(String(77))
    pix_key_type: Mapped[str] = mapped_column(String(8))
    pix_key_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the driver last changed their Pix key (PATCH /drivers/me); a payout soon after waits."""
    approval_status: Mapped[str] = mapped_column(String(20), default=ApprovalStatus.PENDING_APPROVAL)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    current_ride_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    average_rating: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_total: Mapped[int] = mapped_column(Integer, default=0)
    total_rides: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    @property
    def status(self) -> str:
        """The spec's driver status, derived so it can never disagree with `online` and the current ride."""
        return driver_status(self.online, self.current_ride_id)


class Vehicle(Base):
    """A car a driver is registered with; one is active at a time and decides the driver's category."""

    __tablename__ = "vehicles"

    id: Mapped[UUIDPk]
    driver_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("drivers.id"))
    license_plate: Mapped[str] = mapped_column(String(7), unique=True)
    brand: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(60))
    year: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=VehicleStatus.ACTIVE)
    created_at: Mapped[CreatedAt]
