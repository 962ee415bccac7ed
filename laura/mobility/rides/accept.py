"""`POST /rides/{id}/accept`: exactly one driver wins, with the three layers of the spec's flow 1.

1. A lock on the ride taken only by candidates (a fresh attempt of a driver holding a live offer of an
   OFFERED ride): the first one goes on, concurrent ones are answered 409 RIDE_ALREADY_ACCEPTED without
   touching the ride's row. With Redis configured it is Redis's (`SET NX PX`); without, a
   transaction-scoped PostgreSQL advisory lock tried by the first statement itself.
2. `ride_accept_attempts`: one row per (driver, Idempotency-Key), inserted by the first statement. A
   repeat of a finished attempt replays its stored answer (success or failure); a concurrent repeat waits
   on the row's unique index until the first commits, then replays it, so it never runs twice.
3. In the same transaction, the ride's row lock, the state check, the offer check (only a driver with a
   live offer may accept) and the update, gated on the version read under the lock: this is what makes
   the winner unique; the locks of layer 1 only spare the others the wait.

Most of the race is settled by the first statement alone: the driver, the ride, the offer and the attempt
in one round trip, with the refusals visible at once (someone else's ride, never offered) stored with
their answer. Refusals are answers too: stored on the attempt and committed, so the same key gives the
same answer forever after.
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
from laura.mobility.people.errors import DriverProfileRequired
from laura.mobility.rides import service
from laura.mobility.rides.errors import OfferNotActive, RideAlreadyAccepted, RideNotFound
from laura.mobility.rides.lock import RideLock
from laura.mobility.rides.repository import TAKEN, RideRepository
from laura.mobility.rides.states import RideStatus, ensure_transition

log = structlog.get_logger("laura.mobility.accept")

_BUSY_MESSAGE = "Another driver is accepting this ride"


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
    repo = RideRepository(session)
    seen = await repo.claim_accept(
        user_id=user.id,
        ride_id=ride_id,
        key=idempotency_key,
        now=now,
        not_offered=RideNotFound().body(request_id),
        taken=RideAlreadyAccepted(details={"currentStatus": None}).body(request_id),
        try_lock=redis is None,
    )
    if seen["driver_id"] is None:
        raise DriverProfileRequired()
    if seen["ride_id"] is None:
        raise RideNotFound()
    if seen["attempt_id"] is None:
        return await _replay(repo, seen["driver_id"], idempotency_key, ride_id)
    await limiter.hit(
        policy.accept_rate_limit, f"ride-accept:{seen['driver_id']}", "Too many accept attempts; slow down"
    )
    if seen["refused"] is not None:
        return AcceptOutcome(seen["refused"], _refused_on_sight(seen).body(request_id))
    try:
        body = await _contend(session, geo, redis, policy, seen, user=user, now=now)
    except AppError as refused:
        if refused.status >= 500:
            raise
        answer = refused.body(request_id)
        await repo.finish_attempt(
            seen["attempt_id"],
            success=False,
            reason=refused.error,
            status=refused.status,
            body=answer,
            now=now,
        )
        return AcceptOutcome(refused.status, answer)
    await repo.finish_attempt(seen["attempt_id"], success=True, reason=None, status=200, body=body, now=now)
    return AcceptOutcome(200, body)


async def _replay(repo: RideRepository, driver_id: uuid.UUID, key: str, ride_id: uuid.UUID) -> AcceptOutcome:
    """The key was used before by this driver: the committed answer again, if it was for this ride."""
    existing = await repo.accept_attempt(driver_id, key)
    if existing["ride_id"] != ride_id:
        raise IdempotencyKeyReused("This Idempotency-Key was already used to accept another ride")
    return AcceptOutcome(existing["response_status"], existing["response_body"], replayed=True)


def _refused_on_sight(seen: Any) -> AppError:
    """The refusal the first statement settled and stored (its `refused` status): never offered to this
    driver (404) or already someone else's (409)."""
    if seen["refused"] == RideNotFound.status:
        return RideNotFound()
    return RideAlreadyAccepted(details={"currentStatus": seen["status"]})


async def _contend(
    session: AsyncSession,
    geo: RedisGeoIndex | None,
    redis,  # type: ignore[no-untyped-def]
    policy: service.RidePolicy,
    seen: Any,
    *,
    user: Principal,
    now: datetime,
) -> dict[str, Any]:
    """Layer 1 around layer 3: a candidate that did not get the ride's lock is answered at once."""
    if seen["locked"] is False:
        raise RideAlreadyAccepted(_BUSY_MESSAGE)
    lock = None
    if redis is not None and seen["candidate"]:
        try:
            lock = await RideLock.acquire(
                redis, seen["ride_id"], policy.accept_lock_ms, policy.redis_namespace
            )
        except GeoIndexUnavailable as exc:
            log.warning("accept lock unavailable, relying on the row lock", error=str(exc))
        else:
            if lock is None:
                raise RideAlreadyAccepted(_BUSY_MESSAGE)
    try:
        body = await _accept_locked(
            session, geo, ride_id=seen["ride_id"], driver_id=seen["driver_id"], user=user, now=now
        )
    except BaseException:
        if lock is not None:
            await _release(lock)
        raise
    if lock is not None:
        after_commit(session, lambda: _release(lock))
    return body


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
) -> dict[str, Any]:
    """Layer 3: under the ride's row lock, check state and offer, then make the driver the winner.

    Every refusal here is decided before any write, so it needs no savepoint: the attempt is finished as
    failed and committed with nothing else.
    """
    repo = RideRepository(session)
    ride = await repo.lock_for_accept(ride_id, driver_id)
    if ride is None or ride["offer_id"] is None:
        raise RideNotFound()
    status = RideStatus(ride["status"])
    if ride["driver_id"] == driver_id and status in TAKEN:
        return (await service.view_of(session, await repo.get(ride_id))).wire()
    if status in TAKEN:
        raise RideAlreadyAccepted(details={"currentStatus": status.value})
    ensure_transition(status, RideStatus.ACCEPTED)
    if ride["response"] is not None or ride["expires_at"] <= now:
        raise OfferNotActive(
            details={"response": ride["response"] or "EXPIRED", "expiresAt": ride["expires_at"].isoformat()}
        )
    return await service.assign_driver(
        session,
        geo,
        ride_id=ride_id,
        driver_id=driver_id,
        current=status,
        version=ride["version"],
        now=now,
        actor_id=user.id,
    )
