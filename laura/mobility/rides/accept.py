"""`POST /rides/{id}/accept`: exactly one driver wins, with the three layers of the spec's flow 1.

1. A lock on the ride that only candidates (a fresh attempt of a driver holding a live offer of an OFFERED
   ride) are stopped by: the first one goes on, concurrent ones are answered 409 RIDE_ALREADY_ACCEPTED
   without touching the ride's row. With Redis configured it is Redis's (`SET NX PX`, taken before the
   statement, since only the statement knows who is a candidate); without, a transaction-scoped PostgreSQL
   advisory lock tried by the statement for candidates only.
2. `ride_accept_attempts`: one row per (driver, Idempotency-Key). A repeat of a finished attempt replays its
   stored answer (success or failure); a concurrent repeat waits on the row's unique index until the first
   commits, then replays it, so it never runs twice.
3. In the same transaction, the ride's row lock, the state check, the offer check (only a driver with a
   live offer may accept) and the assignment: this is what makes the winner unique; the locks of layer 1
   only spare the others the wait.

All of it, with the caller's session check, the audit row and the events, is one autocommit statement
(`ride_accept`, sql/accept.sql): one round trip per accept, no SQLAlchemy session. Refusals are answers
too: stored on the attempt with it, so the same key gives the same answer forever after.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from laura.audit import service as audit
from laura.core.db import Database
from laura.core.errors import AppError, RateLimited
from laura.core.idempotency import IdempotencyKeyReused
from laura.core.ratelimit import RateLimiter
from laura.core.statement import statement_committed, statement_event_data
from laura.identity.service import Caller, session_ended
from laura.mobility import metrics
from laura.mobility.fraud.errors import AccountSuspended
from laura.mobility.matching import service as matching
from laura.mobility.matching.geo_index import GeoIndexUnavailable, RedisGeoIndex
from laura.mobility.people.errors import DriverProfileRequired
from laura.mobility.rides import repository
from laura.mobility.rides.errors import (
    DriverBusy,
    InvalidStateTransition,
    OfferNotActive,
    RideAlreadyAccepted,
    RideNotFound,
)
from laura.mobility.rides.lock import RideLock
from laura.mobility.rides.outcomes import AcceptRefusal, RideAcceptOutcome, invalid_refusal
from laura.mobility.rides.policy import RidePolicy
from laura.mobility.rides.repository import TAKEN
from laura.mobility.rides.states import RideStatus, can_transition, ensure_transition

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = structlog.get_logger("laura.mobility.accept")

_BUSY_MESSAGE = "Another driver is accepting this ride"


def _template(error: AppError) -> dict[str, Any]:
    return {"status": error.status, "body": error.body(None)}


def _invalid(status: RideStatus) -> AppError:
    try:
        ensure_transition(status, RideStatus.ACCEPTED)
    except InvalidStateTransition as refused:
        return refused
    raise AssertionError(status)


_REFUSALS = json.dumps(
    {
        AcceptRefusal.NOT_OFFERED: _template(RideNotFound()),
        AcceptRefusal.TAKEN: _template(RideAlreadyAccepted(details={"currentStatus": None})),
        AcceptRefusal.BUSY: _template(RideAlreadyAccepted(_BUSY_MESSAGE)),
        AcceptRefusal.OFFER_CLOSED: _template(OfferNotActive(details={"response": None, "expiresAt": None})),
        AcceptRefusal.DRIVER_BUSY: _template(DriverBusy()),
        **{
            invalid_refusal(status): _template(_invalid(status))
            for status in RideStatus
            if status not in TAKEN and not can_transition(status, RideStatus.ACCEPTED)
        },
    }
)
"""Every answer `ride_accept` may store for a refusal, by kind; it adds the request id and the details
(`taken`: the ride's status; `offer_closed`: the offer's response and expiry)."""


@dataclass(frozen=True)
class AcceptOutcome:
    """The HTTP answer of an accept (status and JSON body) and whether it is a replay of an earlier one."""

    status: int
    body: Any
    replayed: bool = False


async def accept_ride(
    db: Database,
    *,
    geo: RedisGeoIndex | None,
    redis: Redis | None,
    limiter: RateLimiter,
    policy: RidePolicy,
    caller: Caller,
    ride_id: uuid.UUID,
    idempotency_key: str,
    request_id: str | None,
    now: datetime,
) -> AcceptOutcome:
    """Accept an offered ride as the calling driver; see the module docstring for the three layers.

    The rate limit is looked at before the statement and counted after it, for fresh attempts only (a
    replay never counts): the statement refuses a fresh attempt once the limit is spent.
    """
    limit_key = f"ride-accept:{caller.id}"
    spent: RateLimited | None = None
    try:
        await limiter.check(policy.accept_rate_limit, limit_key, "Too many accept attempts; slow down")
    except RateLimited as refused:
        spent = refused
    lock, locked = (
        await _redis_lock(redis, ride_id, policy, owner=f"{caller.id}:{idempotency_key}")
        if redis is not None and spent is None
        else (None, None)
    )
    try:
        row = await repository.accept(
            db,
            **_accept_args(
                caller,
                ride_id,
                idempotency_key,
                request_id,
                now,
                locked,
                may_try=spent is None,
                try_lock=redis is None,
            ),
        )
    finally:
        if lock is not None:
            await _release(lock)
    outcome = RideAcceptOutcome(row["outcome"])
    if outcome is RideAcceptOutcome.SESSION_ENDED:
        raise session_ended()
    if outcome is RideAcceptOutcome.NO_DRIVER:
        raise DriverProfileRequired()
    if outcome is RideAcceptOutcome.NO_RIDE:
        raise RideNotFound()
    if outcome is RideAcceptOutcome.SUSPENDED:
        raise AccountSuspended()
    if outcome is RideAcceptOutcome.RATE_LIMITED:
        assert spent is not None
        raise spent
    if outcome is RideAcceptOutcome.REPLAY:
        if row["answer_ride"] != ride_id:
            raise IdempotencyKeyReused("This Idempotency-Key was already used to accept another ride")
        return AcceptOutcome(row["answer_status"], row["answer_body"], replayed=True)
    with contextlib.suppress(RateLimited):  # a concurrent attempt spent the limit since: this one is done
        await limiter.hit(policy.accept_rate_limit, limit_key)
    if outcome is RideAcceptOutcome.ACCEPTED:
        await _accepted(db, geo, row, now)
    return AcceptOutcome(row["answer_status"], row["answer_body"])


def _accept_args(
    caller: Caller,
    ride_id: uuid.UUID,
    key: str,
    request_id: str | None,
    now: datetime,
    locked: bool | None,
    *,
    may_try: bool,
    try_lock: bool,
) -> dict[str, Any]:
    """`ride_accept`'s arguments; the audit row's version is the ride's after the update, so the statement
    fills it in (`$version`)."""
    return {
        "session": caller.session_id,
        "user": caller.id,
        "ride": ride_id,
        "key": key,
        "attempt": uuid.uuid4(),
        "now": now,
        "request_id": request_id,
        "may_try": may_try,
        "try_lock": try_lock,
        "locked": locked,
        "refusals": _REFUSALS,
        **audit.statement_args(
            action="RIDE_STATUS_CHANGED",
            resource_type="ride",
            resource_id=str(ride_id),
            old={"status": RideStatus.OFFERED.value},
            new={"status": RideStatus.ACCEPTED.value, "version": "$version", "actor": "user", "reason": None},
            actor_id=caller.id,
            occurred_at=now,
        ),
        "accepted_type": "ride.accepted",
        "canceled_type": "offer.canceled",
        "canceled_data": statement_event_data({"rideId": ride_id, "reason": "ACCEPTED_BY_ANOTHER_DRIVER"}),
    }


async def _redis_lock(
    redis: Redis, ride_id: uuid.UUID, policy: RidePolicy, *, owner: str
) -> tuple[RideLock | None, bool | None]:
    """The ride's Redis lock and whether it was got (None: the row lock decides alone).

    None also for a repeat of the holder's own request (same driver and Idempotency-Key), which may reach
    the database first: refused as "busy" there, its refusal would become the key's answer and the holder
    would replay it. The statement's lock on the driver and key orders the two instead, as without Redis.
    """
    namespace = policy.redis_namespace
    try:
        lock = await RideLock.acquire(redis, ride_id, policy.accept_lock_ms, namespace, owner=owner)
        if lock is None and await RideLock.held_by(redis, ride_id, namespace, owner):
            return None, None
    except GeoIndexUnavailable as exc:
        log.warning("accept lock unavailable, relying on the row lock", error=str(exc))
        return None, None
    return lock, lock is not None


async def _release(lock: RideLock) -> None:
    try:
        await lock.release()
    except GeoIndexUnavailable as exc:
        log.warning("accept lock not released; it expires by itself", error=str(exc))


async def _accepted(db: Database, geo: RedisGeoIndex | None, row: Any, now: datetime) -> None:
    """What follows the winner's commit: the driver leaves the Redis mirror, the relay wakes, metrics move."""
    if row["mirror_driver"] is not None:
        await matching.mirror(
            geo,
            matching.StoredPosition(
                driver_id=row["mirror_driver"],
                category=row["mirror_category"],
                lat=row["mirror_lat"],
                lon=row["mirror_lon"],
                recorded_at=row["mirror_recorded_at"],
                available=False,
                version=row["mirror_version"],
            ),
        )
    statement_committed()
    metrics.RIDES_ACCEPTED.inc()
    metrics.RIDE_ACCEPT_DURATION.observe((now - row["ride_created_at"]).total_seconds())
    await metrics.refresh_gauges_after_statement(db)
