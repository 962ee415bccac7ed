"""Dispatch: a requested ride is offered to the nearest drivers in batches, round after round, until one
accepts (see `accept.py`) or the rounds run out; a batch lapses by its timeout job, or at once when
everyone in it declined; a sweeper catches batches whose job a stopped worker never ran."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.core.jobs import defer
from laura.core.models import uuid7
from laura.identity.service import Principal
from laura.mobility import metrics
from laura.mobility.fraud import service as fraud
from laura.mobility.matching import service as matching
from laura.mobility.matching.geo import cell_of
from laura.mobility.matching.geo_index import RedisGeoIndex
from laura.mobility.people import service as people
from laura.mobility.rides.errors import ActiveRideExists, OfferNotActive, RideNotFound
from laura.mobility.rides.lifecycle import RideView, driver_users, notify, passenger_user, transition
from laura.mobility.rides.models import Ride, RideOffer
from laura.mobility.rides.policy import RidePolicy
from laura.mobility.rides.quotes import quote
from laura.mobility.rides.repository import RideRepository
from laura.mobility.rides.states import RideStatus

OFFER_ROUND_TASK = "mobility.rides.offer_round_expired"
NO_DRIVERS = "NO_DRIVERS"
NO_DRIVER_ACCEPTED = "NO_DRIVER_ACCEPTED"


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
    EXPIRED with reason NO_DRIVERS at once and the passenger is told. A suspended passenger is 403 and
    pickup or dropoff outside the service area 422, with nothing written.
    """
    passenger = await people.passenger_of(session, user)
    await fraud.ensure_not_suspended(session, user.id)
    priced = await quote(session, policy, pickup=pickup, dropoff=dropoff, category=category, now=now)
    ride = Ride(
        id=uuid7(),
        passenger_id=passenger.id,
        status=RideStatus.REQUESTED.value,
        category=category,
        pickup_lat=pickup[0],
        pickup_lon=pickup[1],
        pickup_h3=matching.h3_int(cell_of(*pickup)),
        dropoff_lat=dropoff[0],
        dropoff_lon=dropoff[1],
        estimated_distance_m=priced.distance_m,
        estimated_duration_s=priced.duration_s,
        surge_multiplier=priced.surge,
        estimated_fare=priced.fare,
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
        new={
            "status": ride.status,
            "category": category,
            "estimatedFare": priced.fare,
            "surge": priced.surge,
        },
        actor_id=user.id,
    )
    await transition(session, ride, RideStatus.SEARCHING, now=now, actor_id=user.id)
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
        session, ride, RideStatus.OFFERED, now=now, actor_id=actor_id, reason=f"round {ride.dispatch_round}"
    )
    await notify(
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
        await driver_users(session, [m.driver_id for m in matches]),
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
    await transition(session, ride, RideStatus.EXPIRED, now=now, actor_id=actor_id, reason=reason)
    await notify(
        session, "ride.expired", {"rideId": ride.id, "reason": reason}, [await passenger_user(session, ride)]
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
    await notify(session, "offer.expired", {"rideId": ride.id}, await driver_users(session, lapsed))
    await transition(session, ride, RideStatus.SEARCHING, now=now, actor_id=actor_id, reason="batch over")
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
    if ride is None or ride.status != RideStatus.OFFERED.value or ride.dispatch_round != round:
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
    assert ride is not None, "an offer was found, so its ride was"
    of_current_round = ride.status == RideStatus.OFFERED.value and offer.round == ride.dispatch_round
    if of_current_round and not await repo.open_offers(ride.id, ride.dispatch_round, now):
        await _next_round(session, geo, policy, ride, now=now, actor_id=user.id)
    return offer


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
