"""Every query on driver positions: the cell search, position upserts, the trail and its daily partitions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from laura.mobility.matching.geo import TrailPoint
from laura.mobility.matching.models import DriverLocation
from laura.mobility.matching.nearest import DriverPosition

_NO_PARTITION = "23514"  # check_violation: "no partition of relation ... found for row"

_IN_CELLS = text(
    """
    SELECT driver_id, lat, lon, category, recorded_at FROM driver_locations
     WHERE available AND category = :category AND h3_cell = ANY(CAST(:cells AS bigint[]))
       AND recorded_at >= :oldest AND driver_id <> ALL(CAST(:exclude AS uuid[]))
     ORDER BY asin(sqrt(power(sin(radians(lat - :lat) / 2), 2)
                   + cos(radians(:lat)) * cos(radians(lat)) * power(sin(radians(lon - :lon) / 2), 2))),
              driver_id
     LIMIT :nearest
    """
)

_UPSERT = text(
    """
    INSERT INTO driver_locations AS l
           (driver_id, category, h3_cell, lat, lon, heading, speed, accuracy, recorded_at, available, version)
    VALUES (:driver_id, :category, :h3_cell, :lat, :lon, :heading, :speed, :accuracy, :recorded_at,
            :available, 1)
    ON CONFLICT (driver_id) DO UPDATE
       SET category = EXCLUDED.category, h3_cell = EXCLUDED.h3_cell, lat = EXCLUDED.lat, lon = EXCLUDED.lon,
           heading = EXCLUDED.heading, speed = EXCLUDED.speed, accuracy = EXCLUDED.accuracy,
           recorded_at = EXCLUDED.recorded_at, available = EXCLUDED.available, version = l.version + 1
     WHERE l.recorded_at < EXCLUDED.recorded_at
    RETURNING version
    """
)


@dataclass(frozen=True, slots=True)
class StoredPosition:
    """A driver_locations row as written, with the version the Redis mirror orders writes by."""

    driver_id: uuid.UUID
    category: str
    lat: float
    lon: float
    recorded_at: datetime
    available: bool
    version: int


def _stored(row: DriverLocation) -> StoredPosition:
    return StoredPosition(
        row.driver_id, row.category, row.lat, row.lon, row.recorded_at, row.available, row.version
    )


class LocationRepository:
    """Queries on `driver_locations` and `location_updates`; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def drivers_in_cells(
        self,
        cells: list[int],
        *,
        category: str,
        oldest: datetime,
        exclude: list[uuid.UUID],
        pickup: tuple[float, float],
        nearest: int,
    ) -> list[DriverPosition]:
        """The `nearest` available drivers of `category` indexed under `cells` (positions not older than
        `oldest`), closest to `pickup` first by PostgreSQL's haversine.

        The caller re-ranks them with its own haversine; `nearest` must exceed the number it keeps by a
        margin, so floating-point differences between the two computations cannot change the answer.
        """
        rows = await self.session.execute(
            _IN_CELLS,
            {
                "cells": cells,
                "category": category,
                "oldest": oldest,
                "exclude": exclude,
                "lat": pickup[0],
                "lon": pickup[1],
                "nearest": nearest,
            },
        )
        return [DriverPosition(r.driver_id, r.lat, r.lon, r.category, r.recorded_at) for r in rows]

    async def count_available(self, cells: list[int], *, category: str, oldest: datetime) -> int:
        """How many available, fresh drivers of `category` are indexed under `cells` (surge supply)."""
        return await self.session.scalar(
            text(
                "SELECT count(*) FROM driver_locations WHERE available AND category = :category"
                " AND h3_cell = ANY(CAST(:cells AS bigint[])) AND recorded_at >= :oldest"
            ),
            {"cells": cells, "category": category, "oldest": oldest},
        )

    async def upsert_position(
        self,
        *,
        driver_id: uuid.UUID,
        category: str,
        h3_cell: int,
        lat: float,
        lon: float,
        heading: float | None,
        speed: float | None,
        accuracy: float | None,
        recorded_at: datetime,
        available: bool,
    ) -> int | None:
        """Make this the current position unless a newer one is stored; the row's new version or None."""
        return await self.session.scalar(
            _UPSERT,
            {
                "driver_id": driver_id,
                "category": category,
                "h3_cell": h3_cell,
                "lat": lat,
                "lon": lon,
                "heading": heading,
                "speed": speed,
                "accuracy": accuracy,
                "recorded_at": recorded_at,
                "available": available,
            },
        )

    async def set_available(self, driver_id: uuid.UUID, available: bool) -> StoredPosition | None:
        """Flip the matching flag of a driver's position row (None when the driver never sent a position)."""
        row = (
            await self.session.execute(
                text(
                    "UPDATE driver_locations SET available = :available, version = version + 1"
                    " WHERE driver_id = :driver_id"
                    " RETURNING driver_id, category, lat, lon, recorded_at, available, version"
                ),
                {"driver_id": driver_id, "available": available},
            )
        ).first()
        return StoredPosition(*row) if row else None

    async def available_among(self, driver_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these drivers the database holds as available."""
        rows = await self.session.scalars(
            text(
                "SELECT driver_id FROM driver_locations"
                " WHERE available AND driver_id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"ids": driver_ids},
        )
        return set(rows)

    async def position(self, driver_id: uuid.UUID) -> StoredPosition | None:
        row = await self.session.get(DriverLocation, driver_id, populate_existing=True)
        return _stored(row) if row else None

    async def available_positions(self) -> list[StoredPosition]:
        """Every available driver's position (to rebuild the Redis mirror)."""
        rows = await self.session.execute(
            text(
                "SELECT driver_id, category, lat, lon, recorded_at, available, version FROM driver_locations"
                " WHERE available"
            )
        )
        return [StoredPosition(*row) for row in rows]

    async def append_update(
        self,
        *,
        driver_id: uuid.UUID,
        ride_id: uuid.UUID | None,
        lat: float,
        lon: float,
        heading: float | None,
        speed: float | None,
        accuracy: float | None,
        recorded_at: datetime,
    ) -> None:
        """Append a sample to the trail (a resent one is ignored); creates the day's partition if missing."""
        params = {
            "driver_id": driver_id,
            "ride_id": ride_id,
            "lat": lat,
            "lon": lon,
            "heading": heading,
            "speed": speed,
            "accuracy": accuracy,
            "recorded_at": recorded_at,
        }
        insert = text(
            "INSERT INTO location_updates"
            " (driver_id, ride_id, lat, lon, heading, speed, accuracy, recorded_at)"
            " VALUES (:driver_id, :ride_id, :lat, :lon, :heading, :speed, :accuracy, :recorded_at)"
            " ON CONFLICT DO NOTHING"
        )
        try:
            async with self.session.begin_nested():
                await self.session.execute(insert, params)
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != _NO_PARTITION:
                raise
            await self.ensure_partitions(recorded_at.date(), 2)
            await self.session.execute(insert, params)

    async def trail(self, ride_id: uuid.UUID, since: datetime, until: datetime) -> list[TrailPoint]:
        """The ride's samples between `since` and `until`, in time order."""
        rows = await self.session.execute(
            text(
                "SELECT lat, lon, recorded_at FROM location_updates"
                " WHERE ride_id = :ride_id AND recorded_at BETWEEN :since AND :until ORDER BY recorded_at"
            ),
            {"ride_id": ride_id, "since": since, "until": until},
        )
        return [TrailPoint(r.lat, r.lon, r.recorded_at) for r in rows]

    async def ensure_partitions(self, first_day: date, days: int) -> int:
        """Create the missing daily partitions from `first_day` on; how many were created."""
        return await self.session.scalar(
            text("SELECT mobility_ensure_location_partitions(:first_day, :days)"),
            {"first_day": first_day, "days": days},
        )

    async def drop_partitions_before(self, day: date) -> list[str]:
        """Drop the daily partitions wholly before `day` (retention); their names."""
        names = await self.session.scalars(
            text("SELECT mobility_drop_location_partitions_before(:day)"), {"day": day}
        )
        return [name for name in names if name]
