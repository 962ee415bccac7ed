"""Nearest available drivers (H3 rings on PostgreSQL, or the Redis GEO mirror); positions kept current."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import h3
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import after_commit
from laura.mobility.categories import VehicleCategory
from laura.mobility.matching.geo import TrailPoint, cell_of, cells_within
from laura.mobility.matching.geo_index import GeoIndexUnavailable, RedisGeoIndex
from laura.mobility.matching.nearest import DriverPosition, Match, search_by_rings_async
from laura.mobility.matching.repository import LocationRepository, StoredPosition
from laura.settings import Settings

log = structlog.get_logger("laura.mobility.matching")

_RERANK_MARGIN = 8
"""Extra rows each cell query returns beyond `limit`: the database ranks by its haversine, we re-rank by
ours, and a near-tie at the cut-off must not drop a driver ours would keep."""


@dataclass(frozen=True, slots=True)
class MatchingPolicy:
    """Who counts as nearby: within `radius_m`, seen in the last `max_age_s`, ETAs at `avg_speed_kmh`."""

    radius_m: float = 5000.0
    max_age_s: float = 60.0
    avg_speed_kmh: float = 25.0

    @classmethod
    def from_settings(cls, settings: Settings) -> MatchingPolicy:
        return cls(
            radius_m=settings.mobility_search_radius_m,
            max_age_s=settings.mobility_location_max_age_seconds,
            avg_speed_kmh=settings.mobility_city_speed_kmh,
        )


@dataclass(frozen=True, slots=True)
class PositionSample:
    """One location report of a driver's app, already range-checked."""

    lat: float
    lon: float
    recorded_at: datetime
    heading: float | None = None
    speed: float | None = None
    accuracy: float | None = None


def h3_int(cell: str) -> int:
    """The 64-bit integer form of an H3 cell, as the database indexes it."""
    return h3.str_to_int(cell)


async def nearest_available(
    session: AsyncSession,
    geo: RedisGeoIndex | None,
    pickup: tuple[float, float],
    *,
    category: str,
    limit: int,
    policy: MatchingPolicy,
    now: datetime,
    exclude: Iterable[uuid.UUID] = (),
) -> list[Match]:
    """The `limit` nearest available drivers of `category` for a pickup, closest first, with ETAs.

    Served by Redis when it is configured and answers, else by the H3 ring search on PostgreSQL; both
    equal `nearest_drivers` over every available driver.
    """
    excluded = list(exclude)
    if geo is not None:
        try:
            return await geo.nearest(
                pickup,
                limit=limit,
                radius_m=policy.radius_m,
                category=category,
                now=now,
                max_age_s=policy.max_age_s,
                avg_speed_kmh=policy.avg_speed_kmh,
                exclude=excluded,
            )
        except GeoIndexUnavailable as exc:
            log.warning("geo index unavailable, searching the database", error=str(exc))
    return await nearest_in_database(
        session, pickup, category=category, limit=limit, policy=policy, now=now, exclude=excluded
    )


async def nearest_in_database(
    session: AsyncSession,
    pickup: tuple[float, float],
    *,
    category: str,
    limit: int,
    policy: MatchingPolicy,
    now: datetime,
    exclude: Iterable[uuid.UUID] = (),
) -> list[Match]:
    """The ring search over `driver_locations`: one indexed query per widening of the H3 disk.

    Each query returns only the nearest few of the cells it reads (a batch holds every driver of all
    its cells, and the best `limit` of the search always come from the best `limit` of some batch), so
    a dense centre costs one index scan and a sort in PostgreSQL, not thousands of rows to Python.
    """
    repo = LocationRepository(session)
    oldest = now - timedelta(seconds=policy.max_age_s)
    excluded = list(exclude)

    async def fetch(cells: list[str]) -> list[DriverPosition]:
        return await repo.drivers_in_cells(
            [h3_int(c) for c in cells],
            category=category,
            oldest=oldest,
            exclude=excluded,
            pickup=pickup,
            nearest=limit + _RERANK_MARGIN,
        )

    return await search_by_rings_async(
        pickup,
        fetch,
        limit=limit,
        radius_m=policy.radius_m,
        category=category,
        now=now,
        max_age_s=policy.max_age_s,
        avg_speed_kmh=policy.avg_speed_kmh,
    )


async def confirmed(session: AsyncSession, matches: list[Match]) -> list[Match]:
    """The matches the database still holds as available (the Redis mirror may lag a commit behind)."""
    if not matches:
        return matches
    available = await LocationRepository(session).available_among([m.driver_id for m in matches])
    return [m for m in matches if m.driver_id in available]


def area_cells(lat: float, lon: float, radius_m: float) -> list[int]:
    """Every cell that can hold a point within `radius_m` (the area surge compares demand and supply in)."""
    return [h3_int(cell) for ring in cells_within(lat, lon, radius_m) for cell in ring]


async def count_available(
    session: AsyncSession, cells: list[int], *, category: str, policy: MatchingPolicy, now: datetime
) -> int:
    """Available drivers of `category` with a fresh position in `cells`."""
    oldest = now - timedelta(seconds=policy.max_age_s)
    return await LocationRepository(session).count_available(cells, category=category, oldest=oldest)


def _mirror(session: AsyncSession, geo: RedisGeoIndex | None, stored: StoredPosition) -> None:
    if geo is None:
        return

    async def write() -> None:
        await mirror(geo, stored)

    after_commit(session, write)


async def mirror(geo: RedisGeoIndex | None, stored: StoredPosition) -> None:
    """Copy a committed driver_locations row to the Redis mirror (now: the caller's write has committed)."""
    if geo is None:
        return
    try:
        await geo.put(
            driver_id=stored.driver_id,
            category=stored.category,
            lat=stored.lat,
            lon=stored.lon,
            recorded_at=stored.recorded_at,
            available=stored.available,
            version=stored.version,
        )
    except GeoIndexUnavailable as exc:
        log.warning("geo index write failed; the next update repairs it", error=str(exc))


async def record_position(
    session: AsyncSession,
    geo: RedisGeoIndex | None,
    *,
    driver_id: uuid.UUID,
    category: str,
    available: bool,
    sample: PositionSample,
    ride_id: uuid.UUID | None,
) -> bool:
    """Store a sample as the driver's current position (unless a newer one is there) and on the trail.

    Returns whether it became the current position. The Redis mirror follows after commit.
    """
    repo = LocationRepository(session)
    version = await repo.upsert_position(
        driver_id=driver_id,
        category=category,
        h3_cell=h3_int(cell_of(sample.lat, sample.lon)),
        lat=sample.lat,
        lon=sample.lon,
        heading=sample.heading,
        speed=sample.speed,
        accuracy=sample.accuracy,
        recorded_at=sample.recorded_at,
        available=available,
    )
    await repo.append_update(
        driver_id=driver_id,
        ride_id=ride_id,
        lat=sample.lat,
        lon=sample.lon,
        heading=sample.heading,
        speed=sample.speed,
        accuracy=sample.accuracy,
        recorded_at=sample.recorded_at,
    )
    if version is None:
        return False
    _mirror(
        session,
        geo,
        StoredPosition(driver_id, category, sample.lat, sample.lon, sample.recorded_at, available, version),
    )
    return True


async def current_position(session: AsyncSession, driver_id: uuid.UUID) -> StoredPosition | None:
    """The driver's stored current position (the database's, which the Redis mirror follows)."""
    return await LocationRepository(session).position(driver_id)


async def set_availability(
    session: AsyncSession, geo: RedisGeoIndex | None, driver_id: uuid.UUID, available: bool
) -> None:
    """Make a driver findable or not (online and free, or not); the Redis mirror follows after commit."""
    stored = await LocationRepository(session).set_available(driver_id, available)
    if stored is not None:
        _mirror(session, geo, stored)


async def rebuild_geo_index(session: AsyncSession, geo: RedisGeoIndex) -> int:
    """Refill the Redis mirror from the database (after a Redis flush or failover); drivers written."""
    await geo.clear(c.value for c in VehicleCategory)
    return await geo.put_many(await LocationRepository(session).available_positions())


async def ride_trail(
    session: AsyncSession, ride_id: uuid.UUID, since: datetime, until: datetime
) -> list[TrailPoint]:
    """The driver's samples recorded during a ride, oldest first (what the final fare measures)."""
    return await LocationRepository(session).trail(ride_id, since, until)


async def ensure_location_partitions(
    session: AsyncSession, *, today: date, ahead_days: int, retention_days: int
) -> dict:
    """Create the trail's daily partitions up to `ahead_days` ahead and drop those past retention."""
    repo = LocationRepository(session)
    created = await repo.ensure_partitions(today - timedelta(days=1), ahead_days + 2)
    dropped = await repo.drop_partitions_before(today - timedelta(days=retention_days))
    return {"created": created, "dropped": dropped}
