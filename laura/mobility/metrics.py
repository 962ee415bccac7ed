"""Mobility's metrics in one place: the spec's ride and driver metrics. Counters move after commit (a
rolled-back ride counts nothing); the gauges are read from the database, at most once a second per process,
so every instance reports the same truth."""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import Database, after_commit
from laura.mobility.people.repository import PeopleRepository
from laura.mobility.rides.repository import RideRepository

RIDES_CREATED = Counter("rides_created_total", "Rides requested", ["category"])
RIDES_ACCEPTED = Counter("rides_accepted_total", "Rides accepted by a driver")
RIDES_CANCELED = Counter("rides_canceled_total", "Rides canceled", ["reason"])
RIDE_ACCEPT_DURATION = Histogram(
    "ride_accept_duration_seconds",
    "Time from the ride request to a driver's acceptance",
    buckets=(1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300),
)
RIDES_COMPLETED = Counter("rides_completed_total", "Rides dropped off (COMPLETED)")
RIDE_DURATION = Histogram(
    "ride_duration_seconds",
    "Time from pickup (IN_PROGRESS) to drop-off of a completed ride",
    buckets=(120, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200),
)
ACTIVE_RIDES = Gauge("active_rides", "Rides between request and completion")
DRIVERS_ONLINE = Gauge("drivers_online", "Drivers online")
DRIVERS_AVAILABLE = Gauge("drivers_available", "Drivers online and not on a trip")

_REFRESH_EVERY_S = 1.0
_last_refresh = 0.0


def count_after_commit(session: AsyncSession, update: Callable[[], object]) -> None:
    """Run `update()` (a metric increment) only once the transaction has committed."""

    async def hook() -> None:
        update()

    after_commit(session, hook)


def count_completed(session: AsyncSession, duration_s: float) -> None:
    """Count a drop-off and its trip time once the completion committed."""

    def update() -> None:
        RIDES_COMPLETED.inc()
        RIDE_DURATION.observe(duration_s)

    count_after_commit(session, update)


def _refresh_due() -> bool:
    """At most one gauge refresh a second per process."""
    global _last_refresh
    if time.monotonic() - _last_refresh < _REFRESH_EVERY_S:
        return False
    _last_refresh = time.monotonic()
    return True


def refresh_gauges_after_commit(session: AsyncSession) -> None:
    """Re-read the gauges once this transaction committed (throttled per process)."""

    async def hook() -> None:
        if _refresh_due():
            await refresh_gauges(session)
            await session.rollback()

    after_commit(session, hook)


async def refresh_gauges_after_statement(db: Database) -> None:
    """`refresh_gauges_after_commit` for a one-statement unit of work, which has no session: one is opened
    only when a refresh is due."""
    if _refresh_due():
        async with db.sessionmaker() as session:
            await refresh_gauges(session)


async def refresh_gauges(session: AsyncSession) -> None:
    """Set the gauges from the database (also run by the periodic job and the stats endpoint)."""
    active = await RideRepository(session).active_count()
    online, available = await PeopleRepository(session).counts()
    ACTIVE_RIDES.set(active)
    DRIVERS_ONLINE.set(online)
    DRIVERS_AVAILABLE.set(available)
