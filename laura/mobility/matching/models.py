"""Where drivers are: the current position per driver (searched by H3 cell) and the trail of updates."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Float, ForeignKey
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from laura.core.db import Base
from laura.core.models import utcnow


class DriverLocation(Base):
    """A driver's last position; `available` (online, approved, not on a trip) gates the matching index."""

    __tablename__ = "driver_locations"

    driver_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("drivers.id"), primary_key=True
    )
    category: Mapped[str]
    h3_cell: Mapped[int] = mapped_column(BigInteger)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    heading: Mapped[float | None]
    speed: Mapped[float | None]
    accuracy: Mapped[float | None]
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    available: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(BigInteger, default=1)


class LocationUpdate(Base):
    """One GPS sample as the driver's app sent it (partitioned by day); rides read their trail from it."""

    __tablename__ = "location_updates"

    driver_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    ride_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    heading: Mapped[float | None]
    speed: Mapped[float | None]
    accuracy: Mapped[float | None]
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
