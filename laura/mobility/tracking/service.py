"""A driver's location report: range and freshness checks, then matching index, trail and rider's live map."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.errors import ValidationFailed
from laura.identity.service import Principal
from laura.mobility.matching import service as matching
from laura.mobility.matching.geo_index import RedisGeoIndex
from laura.mobility.matching.service import PositionSample
from laura.mobility.people import service as people
from laura.mobility.people.errors import DriverNotApproved
from laura.mobility.rides import service as rides

CLOCK_SKEW = timedelta(seconds=5)
"""How far ahead of our clock a phone's timestamp may be before it counts as "in the future"."""


@dataclass(frozen=True)
class LocationReceipt:
    driver_id: uuid.UUID
    sample: PositionSample
    current: bool
    ride_id: uuid.UUID | None


def _reject(message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"field": "recordedAt", "message": message}])


async def report_location(
    session: AsyncSession,
    geo: RedisGeoIndex | None,
    policy: rides.RidePolicy,
    *,
    user: Principal,
    driver_id: uuid.UUID,
    sample: PositionSample,
    now: datetime,
) -> LocationReceipt:
    """Store a position of the caller's own driver (404 for anyone else's id).

    A timestamp in the future or older than the allowed delay is 422: a late sample would put the driver
    where they were, not where they are. An older sample than the stored one only joins the trail.
    """
    profile = await people.own_driver(session, user, driver_id)
    if sample.recorded_at > now + CLOCK_SKEW:
        raise _reject("recordedAt is in the future")
    if sample.recorded_at < now - timedelta(seconds=policy.location_max_delay_s):
        raise _reject(f"recordedAt is older than {int(policy.location_max_delay_s)} seconds")
    driver = profile.driver
    if profile.vehicle is None:
        raise DriverNotApproved("The driver has no active vehicle")
    ride_id = driver.current_ride_id
    current = await matching.record_position(
        session,
        geo,
        driver_id=driver.id,
        category=profile.vehicle.category,
        available=people.is_available(driver),
        sample=sample,
        ride_id=ride_id,
    )
    if ride_id is not None and current:
        await rides.driver_moved(session, ride_id=ride_id, driver=driver, sample=sample, policy=policy)
    return LocationReceipt(driver.id, sample, current, ride_id)
