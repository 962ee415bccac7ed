"""The ride's life after dispatch (arrived, start, complete), and the moves every part of rides shares.

Every status change goes through `transition`: the state table decides, the entry time is stamped, the
row's `version` grows (SQLAlchemy's version counter: the UPDATE names the version it read) and the move
is audited with its actor. Writers take the ride's row lock first, so transitions of one ride serialize.
Events go to the outbox in the same transaction and reach the apps after commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from laura.audit import service as audit
from laura.core.events import publish
from laura.identity.service import Principal
from laura.mobility import metrics
from laura.mobility.fraud.policy import FraudPolicy
from laura.mobility.matching import service as matching
from laura.mobility.matching.geo_index import RedisGeoIndex
from laura.mobility.people import service as people
from laura.mobility.people.models import Driver, Vehicle
from laura.mobility.people.repository import PeopleRepository
from laura.mobility.rides import fraud_review
from laura.mobility.rides.errors import ConcurrentRideUpdate, RideNotFound
from laura.mobility.rides.hooks import ride_completed
from laura.mobility.rides.models import Ride
from laura.mobility.rides.pricing import estimate_fare, trail_distance_m
from laura.mobility.rides.repository import RideRepository
from laura.mobility.rides.schemas import RideOut
from laura.mobility.rides.states import RideStatus, ensure_transition, timestamp_field

# Entry stamps for the states the state table leaves unstamped (they repeat per batch or follow at once).
_MORE_STAMPS = {
    RideStatus.SEARCHING: "searching_at",
    RideStatus.OFFERED: "offered_at",
    RideStatus.DRIVER_ARRIVING: "arriving_at",
}


@dataclass(frozen=True)
class RideView:
    """A ride with its assigned driver and vehicle (None before acceptance)."""

    ride: Ride
    driver: Driver | None = None
    vehicle: Vehicle | None = None

    def out(self) -> RideOut:
        return RideOut.of(self.ride, self.driver, self.vehicle)

    def wire(self) -> dict[str, Any]:
        """The ride as the API shows it, for event payloads and stored accept answers."""
        return self.out().model_dump(mode="json", by_alias=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


async def view_of(session: AsyncSession, ride: Ride) -> RideView:
    """The ride with its driver's public details loaded."""
    if ride.driver_id is None:
        return RideView(ride)
    found = await PeopleRepository(session).driver_with_vehicle(ride.driver_id)
    return RideView(ride, *found) if found else RideView(ride)


async def transition(
    session: AsyncSession,
    ride: Ride,
    target: RideStatus,
    *,
    now: datetime,
    actor_id: uuid.UUID | None,
    reason: str | None = None,
) -> None:
    """Move a (locked) ride to `target`: checked by the state table, stamped, versioned and audited.

    A forbidden move is 409 INVALID_STATE_TRANSITION naming the current state; a version that moved under
    us is 409 CONCURRENT_UPDATE.
    """
    current = RideStatus(ride.status)
    ensure_transition(current, target)
    ride.status = target.value
    ride.status_changed_at = now
    column = timestamp_field(target) or _MORE_STAMPS.get(target)
    if column is not None:
        setattr(ride, column, now)
    try:
        await session.flush()
    except StaleDataError as exc:
        raise ConcurrentRideUpdate() from exc
    _audit_transition(session, ride.id, current, target, ride.version, actor_id=actor_id, reason=reason)


def _audit_transition(
    session: AsyncSession,
    ride_id: uuid.UUID,
    current: RideStatus,
    target: RideStatus,
    version: int,
    *,
    actor_id: uuid.UUID | None,
    reason: str | None = None,
) -> None:
    audit.record(
        session,
        action="RIDE_STATUS_CHANGED",
        resource_type="ride",
        resource_id=str(ride_id),
        old={"status": current.value},
        new={
            "status": target.value,
            "version": version,
            "actor": "user" if actor_id else "system",
            "reason": reason,
        },
        actor_id=actor_id,
    )


async def notify(
    session: AsyncSession, kind: str, data: dict[str, Any], user_ids: Iterable[uuid.UUID]
) -> None:
    """Publish an event of the ride to the users named (none: nothing is published)."""
    recipients = [u for u in user_ids if u is not None]
    if recipients:
        await publish(session, kind, data, user_ids=recipients)


async def passenger_user(session: AsyncSession, ride: Ride) -> uuid.UUID:
    """The user id of the ride's passenger (events go to users, rides name profiles)."""
    return (await PeopleRepository(session).user_ids(passenger_id=ride.passenger_id))[ride.passenger_id]


async def driver_users(session: AsyncSession, driver_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    if not driver_ids:
        return []
    return list((await PeopleRepository(session).user_ids(driver_ids=driver_ids)).values())


async def _assigned_ride(session: AsyncSession, user: Principal, ride_id: uuid.UUID) -> tuple[Ride, Driver]:
    """The ride locked, when the caller is its assigned driver (404 for anyone else)."""
    driver = await people.driver_of(session, user)
    ride = await RideRepository(session).lock(ride_id)
    if ride is None or ride.driver_id != driver.id:
        raise RideNotFound()
    return ride, driver


async def driver_arrived(
    session: AsyncSession, *, user: Principal, ride_id: uuid.UUID, now: datetime
) -> RideView:
    """The driver is at the pickup (DRIVER_ARRIVED; through DRIVER_ARRIVING if no position came before)."""
    ride, _driver = await _assigned_ride(session, user, ride_id)
    if ride.status == RideStatus.ACCEPTED.value:
        await transition(session, ride, RideStatus.DRIVER_ARRIVING, now=now, actor_id=user.id)
    await transition(session, ride, RideStatus.DRIVER_ARRIVED, now=now, actor_id=user.id)
    view = await view_of(session, ride)
    await notify(session, "ride.driver_arrived", view.wire(), [await passenger_user(session, ride)])
    return view


async def start_ride(
    session: AsyncSession, *, user: Principal, ride_id: uuid.UUID, now: datetime
) -> RideView:
    """The passenger is on board (IN_PROGRESS); the trail from now on measures the fare."""
    ride, _driver = await _assigned_ride(session, user, ride_id)
    await transition(session, ride, RideStatus.IN_PROGRESS, now=now, actor_id=user.id)
    view = await view_of(session, ride)
    await notify(session, "ride.started", view.wire(), [await passenger_user(session, ride)])
    return view


async def complete_ride(
    session: AsyncSession,
    geo: RedisGeoIndex | None,
    fraud_policy: FraudPolicy,
    *,
    user: Principal,
    ride_id: uuid.UUID,
    now: datetime,
) -> RideView:
    """Drop-off (COMPLETED): the final fare from the distance driven (the trail, or the estimate when the
    trail is too sparse to trust) and the time taken, at the surge quoted; the driver is free again. The
    anti-fraud completion rules judge it, then the completion hooks (payments asks for the fare) run."""
    ride, driver = await _assigned_ride(session, user, ride_id)
    ensure_transition(RideStatus(ride.status), RideStatus.COMPLETED)
    started = ride.started_at
    assert started is not None, "only an IN_PROGRESS ride completes, and it has started"
    measured = trail_distance_m(
        await matching.ride_trail(session, ride.id, started, now), started_at=started, ended_at=now
    )
    distance = measured if measured is not None else float(ride.estimated_distance_m)
    duration = (now - started).total_seconds()
    ride.final_distance_m = round(distance)
    ride.final_duration_s = round(duration)
    ride.fare_basis = "trail" if measured is not None else "estimate"
    ride.final_fare = estimate_fare(
        ride.final_distance_m, ride.final_duration_s, ride.category, ride.surge_multiplier
    )
    await transition(session, ride, RideStatus.COMPLETED, now=now, actor_id=user.id)
    await release_driver(session, geo, driver.id)
    await PeopleRepository(session).count_completed_ride(passenger_id=ride.passenger_id, driver_id=driver.id)
    await fraud_review.judge_completed(session, fraud_policy, ride, driver, now)
    await ride_completed(session, ride, driver, now)
    view = await view_of(session, ride)
    await notify(
        session, "ride.completed", view.wire(), [await passenger_user(session, ride), driver.user_id]
    )
    metrics.count_completed(session, duration)
    metrics.refresh_gauges_after_commit(session)
    return view


async def release_driver(session: AsyncSession, geo: RedisGeoIndex | None, driver_id: uuid.UUID) -> Driver:
    """The driver is off the ride: free for offers again (and back in the Redis mirror)."""
    driver = await PeopleRepository(session).driver(driver_id, for_update=True)
    assert driver is not None, "a ride's driver exists"
    driver.current_ride_id = None
    await session.flush()
    await people.sync_availability(session, geo, driver)
    return driver
