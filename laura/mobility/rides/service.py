"""The ride lifecycle: estimate, request and dispatch in batches, arrive/start/complete, cancel, rate, read.

Every status change goes through `transition`: the state table decides, the entry time is stamped, the
row's `version` grows (SQLAlchemy's version counter: the UPDATE names the version it read) and the move
is audited with its actor. Writers take the ride's row lock first, so transitions of one ride serialize.
Events go to the outbox in the same transaction and reach the apps after commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from laura.audit import service as audit
from laura.core.events import publish
from laura.core.jobs import defer
from laura.core.models import uuid7
from laura.identity.service import Principal
from laura.mobility.matching import service as matching
from laura.mobility.matching.geo import DETOUR_FACTOR, cell_of, eta_seconds, haversine_m
from laura.mobility.matching.geo_index import RedisGeoIndex
from laura.mobility.matching.service import MatchingPolicy, PositionSample
from laura.mobility.people import service as people
from laura.mobility.people.models import Driver, Vehicle
from laura.mobility.people.repository import PeopleRepository
from laura.mobility.rides import metrics
from laura.mobility.rides.cancellation import CanceledBy, cancellation_outcome
from laura.mobility.rides.errors import (
    ActiveRideExists,
    AlreadyRated,
    ConcurrentRideUpdate,
    OfferNotActive,
    RideNotCompleted,
    RideNotFound,
)
from laura.mobility.rides.models import Ride, RideOffer, RideRating
from laura.mobility.rides.pricing import estimate_fare, route_estimate, surge_multiplier, trail_distance_m
from laura.mobility.rides.repository import PeriodFigures, RideRepository
from laura.mobility.rides.schemas import RideOut
from laura.mobility.rides.states import RideStatus, ensure_transition, timestamp_field

OFFER_ROUND_TASK = "mobility.rides.offer_round_expired"
NO_DRIVERS = "NO_DRIVERS"
NO_DRIVER_ACCEPTED = "NO_DRIVER_ACCEPTED"

_S = RideStatus
# Entry stamps for the states the state table leaves unstamped (they repeat per batch or follow at once).
_MORE_STAMPS = {_S.SEARCHING: "searching_at", _S.OFFERED: "offered_at", _S.DRIVER_ARRIVING: "arriving_at"}
_ASSIGNED = (_S.ACCEPTED, _S.DRIVER_ARRIVING, _S.DRIVER_ARRIVED, _S.IN_PROGRESS)
_RATEABLE = (_S.COMPLETED, _S.PAYMENT_PENDING, _S.PAID)


@dataclass(frozen=True)
class RidePolicy:
    """The dispatch and money knobs (settings `ride_*`, `mobility_*`)."""

    matching: MatchingPolicy = field(default_factory=MatchingPolicy)
    batch_size: int = 5
    offer_ttl_s: float = 15.0
    max_rounds: int = 3
    surge_cap: Decimal = Decimal("2.0")
    surge_radius_m: float = 2000.0
    cancellation_fee: Decimal = Decimal("5.00")
    free_cancellation_s: float = 120.0
    accept_lock_ms: int = 10_000
    accept_rate_limit: str = "5/minute"
    location_max_delay_s: float = 120.0
    timezone: str = "America/Sao_Paulo"
    redis_namespace: str = "mobility"

    @classmethod
    def from_settings(cls, settings) -> RidePolicy:  # type: ignore[no-untyped-def]
        return cls(
            matching=MatchingPolicy.from_settings(settings),
            batch_size=settings.ride_offer_batch_size,
            offer_ttl_s=settings.ride_offer_ttl_seconds,
            max_rounds=settings.ride_max_offer_rounds,
            surge_cap=settings.ride_surge_cap,
            surge_radius_m=settings.ride_surge_radius_m,
            cancellation_fee=settings.ride_cancellation_fee,
            free_cancellation_s=settings.ride_free_cancellation_seconds,
            accept_lock_ms=settings.ride_accept_lock_ms,
            accept_rate_limit=settings.rate_limit_ride_accept,
            location_max_delay_s=settings.mobility_location_max_delay_seconds,
            timezone=settings.mobility_timezone,
            redis_namespace=settings.mobility_redis_namespace,
        )


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


@dataclass(frozen=True)
class Estimate:
    category: str
    distance_m: int
    duration_s: int
    fare: Decimal
    surge: Decimal
    available_drivers: int
    pickup_eta_s: int | None


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


async def _notify(
    session: AsyncSession, kind: str, data: dict[str, Any], user_ids: Iterable[uuid.UUID]
) -> None:
    recipients = [u for u in user_ids if u is not None]
    if recipients:
        await publish(session, kind, data, user_ids=recipients)


async def _passenger_user(session: AsyncSession, ride: Ride) -> uuid.UUID:
    return (await PeopleRepository(session).user_ids(passenger_id=ride.passenger_id))[ride.passenger_id]


async def _driver_users(session: AsyncSession, driver_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    if not driver_ids:
        return []
    return list((await PeopleRepository(session).user_ids(driver_ids=driver_ids)).values())


async def _surge(
    session: AsyncSession,
    policy: RidePolicy,
    pickup: tuple[float, float],
    category: str,
    now: datetime,
    *,
    demand: int,
) -> tuple[Decimal, int]:
    """The multiplier from waiting requests (plus `demand` new ones) against available drivers nearby."""
    cells = matching.area_cells(pickup[0], pickup[1], policy.surge_radius_m)
    waiting = await RideRepository(session).waiting_requests(cells, category=category)
    supply = await matching.count_available(
        session, cells, category=category, policy=policy.matching, now=now
    )
    return surge_multiplier(waiting + demand, supply, policy.surge_cap), supply


async def estimate(
    session: AsyncSession,
    geo: RedisGeoIndex | None,
    policy: RidePolicy,
    *,
    pickup: tuple[float, float],
    dropoff: tuple[float, float],
    category: str,
    now: datetime,
) -> Estimate:
    """Distance, duration, fare with surge and the nearest driver's ETA for a trip; creates nothing."""
    route = route_estimate(pickup, dropoff, policy.matching.avg_speed_kmh)
    surge, supply = await _surge(session, policy, pickup, category, now, demand=1)
    nearest = await matching.nearest_available(
        session, geo, pickup, category=category, limit=1, policy=policy.matching, now=now
    )
    return Estimate(
        category=category,
        distance_m=route.distance_m,
        duration_s=route.duration_s,
        fare=estimate_fare(route.distance_m, route.duration_s, category, surge),
        surge=surge,
        available_drivers=supply,
        pickup_eta_s=nearest[0].eta_s if nearest else None,
    )


async def request_ride(
    session: AsyncSession,
    geo: RedisGeoIndex | None,
    policy: RidePolicy,
    *,
    user: Principal,
    pickup: tuple[float, float],
    dropoff: tuple[float, float],
    category: str,
    now: datetime,
) -> RideView:
    """Create the ride (REQUESTED), start searching and offer it to the first batch of drivers.

    One ride at a time per passenger (409 ACTIVE_RIDE_EXISTS). Without any driver nearby the ride ends
    EXPIRED with reason NO_DRIVERS at once and the passenger is told.
    """
    passenger = await people.passenger_of(session, user)
    quote = await estimate(session, None, policy, pickup=pickup, dropoff=dropoff, category=category, now=now)
    ride = Ride(
        id=uuid7(),
        passenger_id=passenger.id,
        status=_S.REQUESTED.value,
        category=category,
        pickup_lat=pickup[0],
        pickup_lon=pickup[1],
        pickup_h3=matching.h3_int(cell_of(*pickup)),
        dropoff_lat=dropoff[0],
        dropoff_lon=dropoff[1],
        estimated_distance_m=quote.distance_m,
        estimated_duration_s=quote.duration_s,
        surge_multiplier=quote.surge,
        estimated_fare=quote.fare,
        dispatch_round=0,
        dispatch_round_base=0,
        created_at=now,
        status_changed_at=now,
    )
    try:
        async with session.begin_nested():
            await RideRepository(session).add(ride)
    except IntegrityError as exc:
        raise ActiveRideExists() from exc
    audit.record(
        session,
        action="RIDE_REQUESTED",
        resource_type="ride",
        resource_id=str(ride.id),
        new={"status": ride.status, "category": category, "estimatedFare": quote.fare, "surge": quote.surge},
        actor_id=user.id,
    )
    await transition(session, ride, _S.SEARCHING, now=now, actor_id=user.id)
    await dispatch(session, geo, policy, ride, now=now, actor_id=user.id)
    metrics.count_after_commit(session, metrics.RIDES_CREATED.labels(category).inc)
    metrics.refresh_gauges_after_commit(session)
    return RideView(ride)


async def dispatch(
    session: AsyncSession,
    geo: RedisGeoIndex | None,
    policy: RidePolicy,
    ride: Ride,
    *,
    now: datetime,
    actor_id: uuid.UUID | None,
) -> None:
    """Offer a SEARCHING ride to the nearest drivers not asked yet, in one batch (-> OFFERED), or expire it.

    The batch's timeout job is enqueued in the same transaction, scheduled for when the offers lapse.
    """
    repo = RideRepository(session)
    nearest = await matching.nearest_available(
        session,
        geo,
        (ride.pickup_lat, ride.pickup_lon),
        category=ride.category,
        limit=policy.batch_size,
        policy=policy.matching,
        now=now,
        exclude=await repo.asked_drivers(ride.id),
    )
    matches = await matching.confirmed(session, nearest) if geo is not None else nearest
    if not matches:
        await expire(session, ride, now=now, actor_id=actor_id, reason=NO_DRIVERS)
        return
    ride.dispatch_round += 1
    expires_at = now + timedelta(seconds=policy.offer_ttl_s)
    await repo.add(
        *(
            RideOffer(
                id=uuid7(),
                ride_id=ride.id,
                driver_id=m.driver_id,
                round=ride.dispatch_round,
                distance_m=round(m.distance_m),
                eta_s=m.eta_s,
                offered_at=now,
                expires_at=expires_at,
            )
            for m in matches
        )
    )
    await transition(
        session, ride, _S.OFFERED, now=now, actor_id=actor_id, reason=f"round {ride.dispatch_round}"
    )
    await _notify(
        session,
        "ride.offered",
        {
            "rideId": ride.id,
            "round": ride.dispatch_round,
            "category": ride.category,
            "pickup": {"lat": ride.pickup_lat, "lon": ride.pickup_lon},
            "dropoff": {"lat": ride.dropoff_lat, "lon": ride.dropoff_lon},
            "estimatedFare": ride.estimated_fare,
            "estimatedDistanceMeters": ride.estimated_distance_m,
            "estimatedDurationSeconds": ride.estimated_duration_s,
            "surgeMultiplier": ride.surge_multiplier,
            "expiresAt": expires_at,
        },
        await _driver_users(session, [m.driver_id for m in matches]),
    )
    await defer(
        session,
        OFFER_ROUND_TASK,
        args={"ride_id": str(ride.id), "round": ride.dispatch_round},
        schedule_at=expires_at,
    )


async def expire(
    session: AsyncSession, ride: Ride, *, now: datetime, actor_id: uuid.UUID | None, reason: str
) -> None:
    """End a search that found nobody (EXPIRED) and tell the passenger why."""
    ride.expire_reason = reason
    await transition(session, ride, _S.EXPIRED, now=now, actor_id=actor_id, reason=reason)
    await _notify(
        session, "ride.expired", {"rideId": ride.id, "reason": reason}, [await _passenger_user(session, ride)]
    )
    metrics.refresh_gauges_after_commit(session)


async def _next_round(
    session: AsyncSession,
    geo: RedisGeoIndex | None,
    policy: RidePolicy,
    ride: Ride,
    *,
    now: datetime,
    actor_id: uuid.UUID | None,
) -> None:
    """The current batch is over (lapsed or all declined): close it, then offer the next one or give up."""
    lapsed = await RideRepository(session).close_open_offers(
        ride.id, response="EXPIRED", now=now, round=ride.dispatch_round
    )
    await _notify(session, "offer.expired", {"rideId": ride.id}, await _driver_users(session, lapsed))
    await transition(session, ride, _S.SEARCHING, now=now, actor_id=actor_id, reason="batch over")
    if ride.dispatch_round - ride.dispatch_round_base >= policy.max_rounds:
        await expire(session, ride, now=now, actor_id=actor_id, reason=NO_DRIVER_ACCEPTED)
    else:
        await dispatch(session, geo, policy, ride, now=now, actor_id=actor_id)


async def offer_round_expired(
    session: AsyncSession, policy: RidePolicy, *, ride_id: uuid.UUID, round: int, now: datetime
) -> str:
    """The timeout job of one batch: if the ride still waits on that batch, move on to the next.

    Idempotent: a ride accepted, canceled or already past that round is left alone. If some offer of the
    round is still live (the job ran early by clock skew) the job is enqueued again for its expiry.
    """
    repo = RideRepository(session)
    ride = await repo.lock(ride_id)
    if ride is None or ride.status != _S.OFFERED.value or ride.dispatch_round != round:
        return "stale"
    if await repo.open_offers(ride.id, round, now):
        await defer(
            session,
            OFFER_ROUND_TASK,
            args={"ride_id": str(ride.id), "round": round},
            schedule_at=now + timedelta(seconds=policy.offer_ttl_s),
        )
        return "rescheduled"
    await _next_round(session, None, policy, ride, now=now, actor_id=None)
    return RideStatus(ride.status).value


async def reject_offer(
    session: AsyncSession,
    geo: RedisGeoIndex | None,
    policy: RidePolicy,
    *,
    user: Principal,
    ride_id: uuid.UUID,
    now: datetime,
) -> RideOffer:
    """Decline an offer; when it was the last open one of the batch, the next batch goes out at once."""
    driver = await people.driver_of(session, user)
    repo = RideRepository(session)
    ride = await repo.lock(ride_id)
    offer = await repo.offer(ride_id, driver.id) if ride else None
    if offer is None:
        raise RideNotFound()
    if offer.response is not None or offer.expires_at <= now:
        raise OfferNotActive(details={"response": offer.response or "EXPIRED"})
    offer.response = "REJECTED"
    offer.responded_at = now
    await session.flush()
    if ride.status == _S.OFFERED.value and offer.round == ride.dispatch_round:
        if not await repo.open_offers(ride.id, ride.dispatch_round, now):
            await _next_round(session, geo, policy, ride, now=now, actor_id=user.id)
    return offer


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
    if ride.status == _S.ACCEPTED.value:
        await transition(session, ride, _S.DRIVER_ARRIVING, now=now, actor_id=user.id)
    await transition(session, ride, _S.DRIVER_ARRIVED, now=now, actor_id=user.id)
    view = await view_of(session, ride)
    await _notify(session, "ride.driver_arrived", view.wire(), [await _passenger_user(session, ride)])
    return view


async def start_ride(
    session: AsyncSession, *, user: Principal, ride_id: uuid.UUID, now: datetime
) -> RideView:
    """The passenger is on board (IN_PROGRESS); the trail from now on measures the fare."""
    ride, _driver = await _assigned_ride(session, user, ride_id)
    await transition(session, ride, _S.IN_PROGRESS, now=now, actor_id=user.id)
    view = await view_of(session, ride)
    await _notify(session, "ride.started", view.wire(), [await _passenger_user(session, ride)])
    return view


async def complete_ride(
    session: AsyncSession, geo: RedisGeoIndex | None, *, user: Principal, ride_id: uuid.UUID, now: datetime
) -> RideView:
    """Drop-off (COMPLETED): the final fare from the distance driven (the trail, or the estimate when the
    trail is too sparse to trust) and the time taken, at the surge quoted; the driver is free again."""
    ride, driver = await _assigned_ride(session, user, ride_id)
    ensure_transition(RideStatus(ride.status), _S.COMPLETED)
    started = ride.started_at
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
    await transition(session, ride, _S.COMPLETED, now=now, actor_id=user.id)
    await _release_driver(session, geo, driver.id)
    await PeopleRepository(session).count_completed_ride(passenger_id=ride.passenger_id, driver_id=driver.id)
    view = await view_of(session, ride)
    await _notify(
        session, "ride.completed", view.wire(), [await _passenger_user(session, ride), driver.user_id]
    )
    metrics.refresh_gauges_after_commit(session)
    return view


async def _release_driver(session: AsyncSession, geo: RedisGeoIndex | None, driver_id: uuid.UUID) -> Driver:
    driver = await PeopleRepository(session).driver(driver_id, for_update=True)
    driver.current_ride_id = None
    await session.flush()
    await people.sync_availability(session, geo, driver)
    return driver


async def cancel_ride(
    session: AsyncSession,
    geo: RedisGeoIndex | None,
    policy: RidePolicy,
    *,
    user: Principal,
    ride_id: uuid.UUID,
    reason: str,
    now: datetime,
) -> RideView:
    """Cancel as the ride's passenger or its assigned driver (anyone else: 404).

    Passenger: free before acceptance and within the grace window after it; later, or once the driver
    is at the pickup, the cancellation fee is recorded on the ride. Driver: the ride goes back to
    SEARCHING and out to a new batch (the driver's cancellation is counted against them).
    """
    repo = RideRepository(session)
    ride = await repo.lock(ride_id)
    if ride is None:
        raise RideNotFound()
    people_repo = PeopleRepository(session)
    passenger = await people_repo.passenger_by_user(user.id)
    driver = await people_repo.driver_by_user(user.id)
    if passenger is not None and passenger.id == ride.passenger_id:
        by = CanceledBy.PASSENGER
    elif driver is not None and driver.id == ride.driver_id:
        by = CanceledBy.DRIVER
    else:
        raise RideNotFound()
    outcome = cancellation_outcome(
        RideStatus(ride.status),
        by=by,
        accepted_at=ride.accepted_at,
        now=now,
        fee=policy.cancellation_fee,
        free_window=timedelta(seconds=policy.free_cancellation_s),
    )
    was_assigned = ride.driver_id is not None
    await repo.count_cancellation(
        user_id=user.id, role=by.value, after_acceptance=was_assigned, with_fee=outcome.fee > 0, now=now
    )
    metrics.count_after_commit(session, metrics.RIDES_CANCELED.labels(outcome.rule.value).inc)
    metrics.refresh_gauges_after_commit(session)
    if by is CanceledBy.DRIVER:
        return await _driver_gave_up(
            session, geo, policy, ride, driver, reason=reason, now=now, actor_id=user.id
        )
    ride.canceled_by = by.value
    ride.cancel_reason = reason
    ride.cancellation_rule = outcome.rule.value
    ride.cancellation_fee = outcome.fee
    offered = await repo.close_open_offers(ride.id, response="CANCELED", now=now)
    await transition(session, ride, _S.CANCELED, now=now, actor_id=user.id, reason=outcome.rule.value)
    recipients = [user.id]
    if ride.driver_id is not None:
        recipients.append((await _release_driver(session, geo, ride.driver_id)).user_id)
    view = await view_of(session, ride)
    await _notify(session, "ride.canceled", view.wire(), recipients)
    await _notify(
        session,
        "offer.canceled",
        {"rideId": ride.id, "reason": "RIDE_CANCELED"},
        await _driver_users(session, offered),
    )
    return view


async def _driver_gave_up(
    session: AsyncSession,
    geo: RedisGeoIndex | None,
    policy: RidePolicy,
    ride: Ride,
    driver: Driver,
    *,
    reason: str,
    now: datetime,
    actor_id: uuid.UUID,
) -> RideView:
    ride.driver_id = None
    ride.dispatch_round_base = ride.dispatch_round
    await transition(
        session, ride, _S.SEARCHING, now=now, actor_id=actor_id, reason=f"driver canceled: {reason}"
    )
    await _release_driver(session, geo, driver.id)
    await _notify(
        session,
        "ride.driver_canceled",
        {"rideId": ride.id, "status": _S.SEARCHING.value},
        [await _passenger_user(session, ride), driver.user_id],
    )
    await dispatch(session, geo, policy, ride, now=now, actor_id=actor_id)
    return RideView(ride)


async def rate_ride(
    session: AsyncSession,
    *,
    user: Principal,
    ride_id: uuid.UUID,
    stars: int,
    comment: str | None,
    now: datetime,
) -> RideRating:
    """One rating per side after completion; the other side's average moves in the same transaction."""
    repo = RideRepository(session)
    ride = await repo.get(ride_id)
    if ride is None:
        raise RideNotFound()
    people_repo = PeopleRepository(session)
    passenger = await people_repo.passenger_by_user(user.id)
    driver = await people_repo.driver_by_user(user.id)
    if passenger is not None and passenger.id == ride.passenger_id:
        role, table, ratee = "passenger", "drivers", ride.driver_id
    elif driver is not None and ride.driver_id == driver.id:
        role, table, ratee = "driver", "passengers", ride.passenger_id
    else:
        raise RideNotFound()
    if RideStatus(ride.status) not in _RATEABLE:
        raise RideNotCompleted(f"Ride is {ride.status}; only a completed ride can be rated")
    rating = RideRating(
        id=uuid.uuid4(),
        ride_id=ride.id,
        rater_role=role,
        rater_user_id=user.id,
        stars=stars,
        comment=comment,
        created_at=now,
    )
    if not await repo.add_rating(rating):
        raise AlreadyRated()
    await people_repo.add_rating(table=table, profile_id=ratee, stars=stars)
    return rating


async def visible_ride(
    session: AsyncSession, *, user: Principal, ride_id: uuid.UUID, now: datetime
) -> RideView:
    """A ride for its passenger, its driver (or a driver holding a live offer for it) and admins; 404 else."""
    repo = RideRepository(session)
    ride = await repo.get(ride_id)
    if ride is None:
        raise RideNotFound()
    if user.role != "admin":
        people_repo = PeopleRepository(session)
        passenger = await people_repo.passenger_by_user(user.id)
        driver = await people_repo.driver_by_user(user.id)
        mine = passenger is not None and passenger.id == ride.passenger_id
        driving = driver is not None and (
            driver.id == ride.driver_id or await repo.has_live_offer(ride.id, driver.id, now)
        )
        if not (mine or driving):
            raise RideNotFound()
    return await view_of(session, ride)


async def _party(session: AsyncSession, user: Principal) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    people_repo = PeopleRepository(session)
    passenger = await people_repo.passenger_by_user(user.id)
    driver = await people_repo.driver_by_user(user.id)
    return (passenger.id if passenger else None), (driver.id if driver else None)


async def active_rides(session: AsyncSession, *, user: Principal) -> list[RideView]:
    """The caller's rides not finished yet (as passenger or as driver)."""
    passenger_id, driver_id = await _party(session, user)
    rides = await RideRepository(session).active_for(passenger_id=passenger_id, driver_id=driver_id)
    return [await view_of(session, r) for r in rides]


async def ride_history(
    session: AsyncSession, *, user: Principal, offset: int, limit: int
) -> tuple[list[RideView], int]:
    """The caller's finished rides, newest first."""
    passenger_id, driver_id = await _party(session, user)
    rides, total = await RideRepository(session).history_for(
        passenger_id=passenger_id, driver_id=driver_id, offset=offset, limit=limit
    )
    return [await view_of(session, r) for r in rides], total


@dataclass(frozen=True)
class PeriodStats:
    since: datetime
    figures: PeriodFigures

    @property
    def acceptance_rate(self) -> float | None:
        decided = self.figures.total - self.figures.waiting
        return round(self.figures.accepted / decided, 4) if decided else None

    @property
    def offer_acceptance_rate(self) -> float | None:
        answered = self.figures.offers_answered
        return round(self.figures.offers_accepted / answered, 4) if answered else None

    @property
    def cancellation_rate(self) -> float | None:
        total = self.figures.total
        return round(self.figures.canceled / total, 4) if total else None


async def ride_stats(session: AsyncSession, *, timezone: str, now: datetime) -> dict[str, PeriodStats]:
    """Rides by status and the rates operations watch, for today, this week (from Monday) and this month,
    with day boundaries in the operation's time zone."""
    local = now.astimezone(ZoneInfo(timezone))
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    starts = {"today": today, "week": today - timedelta(days=today.weekday()), "month": today.replace(day=1)}
    repo = RideRepository(session)
    await metrics.refresh_gauges(session)
    return {name: PeriodStats(since, await repo.period_figures(since)) for name, since in starts.items()}


async def driver_moved(
    session: AsyncSession, *, ride_id: uuid.UUID, driver: Driver, sample: PositionSample, policy: RidePolicy
) -> None:
    """A new position of a driver on a ride: the first one after acceptance means they are on their way
    (DRIVER_ARRIVING); every one is pushed to the passenger as `driver.location.updated`."""
    repo = RideRepository(session)
    ride = await repo.get(ride_id)
    if ride is None or RideStatus(ride.status) not in _ASSIGNED:
        return
    if ride.status == _S.ACCEPTED.value:
        ride = await repo.lock(ride_id)
        if ride.status == _S.ACCEPTED.value:
            await transition(session, ride, _S.DRIVER_ARRIVING, now=utcnow(), actor_id=driver.user_id)
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
    if ride.status in (_S.ACCEPTED.value, _S.DRIVER_ARRIVING.value):
        gap = haversine_m(sample.lat, sample.lon, ride.pickup_lat, ride.pickup_lon)
        data["pickupEtaSeconds"] = eta_seconds(gap * DETOUR_FACTOR, policy.matching.avg_speed_kmh)
    await _notify(session, "driver.location.updated", data, [await _passenger_user(session, ride)])


async def sweep_lapsed_batches(session: AsyncSession, policy: RidePolicy, *, now: datetime) -> int:
    """Move on every OFFERED ride whose batch lapsed without its timeout job having run (a safety net for a
    worker that was down); how many were moved on."""
    moved = 0
    for ride_id, round_ in await RideRepository(session).offered_past_expiry(now):
        if await offer_round_expired(session, policy, ride_id=ride_id, round=round_, now=now) not in (
            "stale",
            "rescheduled",
        ):
            moved += 1
    await metrics.refresh_gauges(session)
    return moved
