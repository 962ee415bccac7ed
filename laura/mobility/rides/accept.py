"""`POST /rides/{id}/accept`: exactly one driver wins, with the three layers of the spec's flow 1.

1. A Redis lock on the ride (`SET NX PX`, when Redis is configured) taken by drivers holding a live offer:
   the first one goes on, concurrent ones are answered 409 RIDE_ALREADY_ACCEPTED without touching the
   ride's row.
2. `ride_accept_attempts`: one row per (driver, Idempotency-Key), inserted first in the transaction. A
   repeat of a finished attempt replays its stored answer (success or failure); a concurrent repeat waits
   on the row's unique index until the first commits, then replays it, so it never runs twice.
3. In the same transaction, the ride's row lock, the state check, the offer check (only a driver with a
   live offer may accept) and the update.

Refusals are answers too: they are stored on the attempt and committed (the caller renders them), so
the same key gives the same answer forever after.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import after_commit
from laura.core.errors import AppError
from laura.core.idempotency import IdempotencyKeyReused
from laura.core.ratelimit import RateLimiter
from laura.identity.service import Principal
from laura.mobility.matching.geo_index import GeoIndexUnavailable, RedisGeoIndex
from laura.mobility.people import service as people
from laura.mobility.people.repository import PeopleRepository
from laura.mobility.rides import service
from laura.mobility.rides.errors import DriverBusy, OfferNotActive, RideAlreadyAccepted, RideNotFound
from laura.mobility.rides.lock import RideLock
from laura.mobility.rides.models import Ride, RideOffer
from laura.mobility.rides.repository import RideRepository
from laura.mobility.rides.states import RideStatus, ensure_transition

log = structlog.get_logger("laura.mobility.accept")

_TAKEN = frozenset(
    {
        RideStatus.ACCEPTED,
        RideStatus.DRIVER_ARRIVING,
        RideStatus.DRIVER_ARRIVED,
        RideStatus.IN_PROGRESS,
        RideStatus.COMPLETED,
        RideStatus.PAYMENT_PENDING,
        RideStatus.PAID,
    }
)


@dataclass(frozen=True)
class AcceptOutcome:
    """The HTTP answer of an accept (status and JSON body) and whether it is a replay of an earlier one."""

    status: int
    body: Any
    replayed: bool = False


async def accept_ride(
    session: AsyncSession,
    *,
    geo: RedisGeoIndex | None,
    redis,  # type: ignore[no-untyped-def]
    limiter: RateLimiter,
    policy: service.RidePolicy,
    user: Principal,
    ride_id: uuid.UUID,
    idempotency_key: str,
    request_id: str | None,
    now: datetime,
) -> AcceptOutcome:
    """Accept an offered ride as the calling driver; see the module docstring for the three layers."""
    driver = await people.driver_of(session, user)
    repo = RideRepository(session)
    seen = await repo.with_offer(ride_id, driver.id)
    if seen is None:
        raise RideNotFound()
    ride, offer = seen
    settled = _refused_on_sight(ride, offer, driver.id)
    refusal = (settled.status, settled.error, settled.body(request_id)) if settled else None
    existing, attempt_id = await repo.claim_attempt(
        ride_id=ride_id, driver_id=driver.id, key=idempotency_key, now=now, refusal=refusal
    )
    if existing is not None:
        if existing.ride_id != ride_id:
            raise IdempotencyKeyReused("This Idempotency-Key was already used to accept another ride")
        return AcceptOutcome(existing.response_status, existing.response_body, replayed=True)
    await limiter.hit(
        policy.accept_rate_limit, f"ride-accept:{driver.id}", "Too many accept attempts; slow down"
    )
    if refusal is not None:
        return AcceptOutcome(refusal[0], refusal[2])
    try:
        view = await _guarded(
            session, geo, redis, policy, ride, offer, driver_id=driver.id, user=user, now=now
        )
    except AppError as refused:
        if refused.status >= 500:
            raise
        body = refused.body(request_id)
        await repo.finish_attempt(
            attempt_id, success=False, reason=refused.error, status=refused.status, body=body, now=now
        )
        return AcceptOutcome(refused.status, body)
    body = view.wire()
    await repo.finish_attempt(attempt_id, success=True, reason=None, status=200, body=body, now=now)
    return AcceptOutcome(200, body)


def _refused_on_sight(ride: Ride, offer: RideOffer | None, driver_id: uuid.UUID) -> AppError | None:
    """What the first read settles without any lock: never offered to this driver (404) or already
    someone else's (409). The attempt is then stored with its answer in one statement."""
    if offer is None:
        return RideNotFound()
    if ride.driver_id not in (None, driver_id) and RideStatus(ride.status) in _TAKEN:
        return RideAlreadyAccepted(details={"currentStatus": ride.status})
    return None


async def _guarded(
    session: AsyncSession,
    geo: RedisGeoIndex | None,
    redis,  # type: ignore[no-untyped-def]
    policy: service.RidePolicy,
    ride: Ride,
    offer: RideOffer,
    *,
    driver_id: uuid.UUID,
    user: Principal,
    now: datetime,
) -> service.RideView:
    """Layer 1 around layer 3: only drivers holding a live offer contend for the Redis lock; one that
    cannot take it is answered at once, without touching the ride's row."""
    lock = None
    if redis is not None and offer.response is None and offer.expires_at > now:
        try:
            lock = await RideLock.acquire(redis, ride.id, policy.accept_lock_ms, policy.redis_namespace)
        except GeoIndexUnavailable as exc:
            log.warning("accept lock unavailable, relying on the row lock", error=str(exc))
        else:
            if lock is None:
                raise RideAlreadyAccepted("Another driver is accepting this ride")
    try:
        view = await _accept_locked(session, geo, ride_id=ride.id, driver_id=driver_id, user=user, now=now)
    except BaseException:
        if lock is not None:
            await _release(lock)
        raise
    if lock is not None:
        after_commit(session, lambda: _release(lock))
    return view


async def _release(lock: RideLock) -> None:
    try:
        await lock.release()
    except GeoIndexUnavailable as exc:
        log.warning("accept lock not released; it expires by itself", error=str(exc))


async def _accept_locked(
    session: AsyncSession,
    geo: RedisGeoIndex | None,
    *,
    ride_id: uuid.UUID,
    driver_id: uuid.UUID,
    user: Principal,
    now: datetime,
) -> service.RideView:
    """Layer 3: under the ride's row lock, check state and offer, then make the driver the winner.

    The lock is taken in a savepoint: a refusal rolls the savepoint back, which releases the row at once
    instead of at commit, so losers that got past the first read pass the row in a round trip each instead
    of a whole transaction each.
    """
    repo = RideRepository(session)
    async with session.begin_nested():
        ride = await repo.lock(ride_id)
        offer = await repo.offer(ride_id, driver_id)
        if ride is None or offer is None:
            raise RideNotFound()
        status = RideStatus(ride.status)
        if ride.driver_id == driver_id and status in _TAKEN:
            return await service.view_of(session, ride)
        if status in _TAKEN:
            raise RideAlreadyAccepted(details={"currentStatus": status.value})
        ensure_transition(status, RideStatus.ACCEPTED)
        if offer.response is not None or offer.expires_at <= now:
            raise OfferNotActive(
                details={"response": offer.response or "EXPIRED", "expiresAt": offer.expires_at.isoformat()}
            )
        driver = await PeopleRepository(session).driver(driver_id, for_update=True)
        if driver.current_ride_id is not None:
            raise DriverBusy()
        return await service.assign_driver(session, geo, ride, driver, now=now, actor_id=user.id)
