"""A driver's location report: range and freshness checks, then matching index, trail and rider's live map
(`driver_moved`: the ride's DRIVER_ARRIVING and the passenger's `driver.location.updated`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.errors import ValidationFailed
from laura.identity.service import Principal
from laura.mobility.fraud import service as fraud
from laura.mobility.matching import service as matching
from laura.mobility.matching.geo import DETOUR_FACTOR, eta_seconds, haversine_m
from laura.mobility.matching.geo_index import RedisGeoIndex
from laura.mobility.matching.service import PositionSample
from laura.mobility.people import service as people
from laura.mobility.people.errors import DriverNotApproved
from laura.mobility.people.models import Driver
from laura.mobility.rides.lifecycle import notify, passenger_user, transition, utcnow
from laura.mobility.rides.policy import RidePolicy
from laura.mobility.rides.repository import RideRepository
from laura.mobility.rides.states import RideStatus

CLOCK_SKEW = timedelta(seconds=5)
"""How far ahead of our clock a phone's timestamp may be before it counts as "in the future"."""
_ASSIGNED = (
    RideStatus.ACCEPTED,
    RideStatus.DRIVER_ARRIVING,
    RideStatus.DRIVER_ARRIVED,
    RideStatus.IN_PROGRESS,
)


@dataclass(frozen=True)
class LocationReceipt:
    """A stored report, under the names its answer shows (`current`: it is the driver's latest position)."""

    driver_id: uuid.UUID
    sample: PositionSample
    current: bool
    ride_id: uuid.UUID | None

    @property
    def lat(self) -> float:
        return self.sample.lat

    @property
    def lon(self) -> float:
        return self.sample.lon

    @property
    def recorded_at(self) -> datetime:
        return self.sample.recorded_at


def _reject(message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"field": "recordedAt", "message": message}])


async def report_location(
    session: AsyncSession,
    geo: RedisGeoIndex | None,
    policy: RidePolicy,
    *,
    user: Principal,
    driver_id: uuid.UUID,
    sample: PositionSample,
    now: datetime,
) -> LocationReceipt:
    """Store a position of the caller's own driver (404 for anyone else's id).

    A timestamp in the future or older than the allowed delay is 422: a late sample would put the driver
    where they were, not where they are. An older sample than the stored one only joins the trail. One
    implying an impossible speed from the stored one is 422 IMPOSSIBLE_MOVEMENT, counted, not stored.
    """
    profile = await people.own_driver(session, user, driver_id)
    if sample.recorded_at > now + CLOCK_SKEW:
        raise _reject("recordedAt is in the future")
    if sample.recorded_at < now - timedelta(seconds=policy.location_max_delay_s):
        raise _reject(f"recordedAt is older than {int(policy.location_max_delay_s)} seconds")
    driver = profile.driver
    if profile.vehicle is None:
        raise DriverNotApproved("The driver has no active vehicle")
    last = await matching.current_position(session, driver.id)
    await fraud.judge_movement(
        session,
        policy.fraud,
        user_id=user.id,
        last=fraud.Position(last.lat, last.lon, last.recorded_at) if last else None,
        new=fraud.Position(sample.lat, sample.lon, sample.recorded_at),
        now=now,
    )
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
        await driver_moved(session, ride_id=ride_id, driver=driver, sample=sample, policy=policy)
    return LocationReceipt(driver.id, sample, current, ride_id)


async def driver_moved(
    session: AsyncSession, *, ride_id: uuid.UUID, driver: Driver, sample: PositionSample, policy: RidePolicy
) -> None:
    """A new position of a driver on a ride: the first one after acceptance means they are on their way
    (DRIVER_ARRIVING); every one is pushed to the passenger as `driver.location.updated`."""
    repo = RideRepository(session)
    ride = await repo.get(ride_id)
    if ride is None or RideStatus(ride.status) not in _ASSIGNED:
        return
    if ride.status == RideStatus.ACCEPTED.value:
        ride = await repo.lock(ride_id)
        assert ride is not None, "rides are never deleted"
        if ride.status == RideStatus.ACCEPTED.value:
            await transition(session, ride, RideStatus.DRIVER_ARRIVING, now=utcnow(), actor_id=driver.user_id)
    data: dict[str, Any] = {
        "rideId": ride.id,
        "driverId": driver.id,
        "status": ride.status,
        "lat": sample.lat,
        "lon": sample.lon,
        "heading": sample.heading,
        "speed": sample.speed,
        "recordedAt": sample.recorded_at,
    }
    if ride.status in (RideStatus.ACCEPTED.value, RideStatus.DRIVER_ARRIVING.value):
        gap = haversine_m(sample.lat, sample.lon, ride.pickup_lat, ride.pickup_lon)
        data["pickupEtaSeconds"] = eta_seconds(gap * DETOUR_FACTOR, policy.matching.avg_speed_kmh)
    await notify(session, "driver.location.updated", data, [await passenger_user(session, ride)])
