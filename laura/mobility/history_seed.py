"""Demo rides for the rider's and driver's history and the console's figures: a few trips of the demo
passengers with the demo drivers over the last weeks, each driven through the ride services the API calls
(request and offer, accept, arrived, start, complete, rating), under the clock those services take, so each
is dated on its own day. Completing one asks payments for its fare, as a real completion does; dated weeks
back, its charge has expired by the time the worker gets to it, so the rides stay COMPLETED and unpaid (the
passenger may ask for a new charge, `POST /payments/intent`). Nothing here touches the ledger.

Idempotent: a passenger who has any ride already gets none.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from laura.core.db import Database
from laura.core.ratelimit import RateLimiter
from laura.identity.repository import IdentityRepository
from laura.identity.seed_sessions import signed_in
from laura.identity.service import Caller, Principal
from laura.mobility.matching import service as matching
from laura.mobility.matching.geo_index import RedisGeoIndex
from laura.mobility.people import service as people
from laura.mobility.people.repository import PeopleRepository
from laura.mobility.rides import accept, dispatch, lifecycle, queries, rating
from laura.mobility.rides.policy import RidePolicy
from laura.mobility.rides.repository import RideRepository
from laura.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DemoRide:
    passenger: str
    driver: str
    category: str
    pickup: tuple[float, float]
    dropoff: tuple[float, float]
    days_ago: int
    minutes: int
    stars: int


RIDES = (
    DemoRide(
        "paula@laura.dev",
        "diego@laura.dev",
        "standard",
        (-23.5614, -46.6559),
        (-23.5874, -46.6576),
        20,
        18,
        5,
    ),
    DemoRide(
        "pedro@laura.dev", "duda@laura.dev", "comfort", (-23.5587, -46.6601), (-23.5505, -46.6333), 13, 14, 4
    ),
    DemoRide(
        "paula@laura.dev", "diego@laura.dev", "standard", (-23.5614, -46.6559), (-23.5700, -46.6450), 6, 11, 5
    ),
    DemoRide(
        "pedro@laura.dev", "duda@laura.dev", "comfort", (-23.5587, -46.6601), (-23.5874, -46.6576), 2, 16, 5
    ),
)
"""Av. Paulista to Ibirapuera, Consolação to Sé, and back; one ride per pair and day (no collusion flag)."""


async def _principal(db: Database, email: str) -> Principal | None:
    async with db.unit_of_work() as session:
        user = await IdentityRepository(session).user_by_email(email)
    if user is None:
        return None
    return Principal(id=user.id, role=user.role, email=user.email, name=user.name, session_id=uuid.uuid4())


async def _has_rides(db: Database, passenger: Principal) -> bool:
    async with db.unit_of_work() as session:
        _, total = await queries.ride_history(session, user=passenger, offset=0, limit=1)
        active = await queries.active_rides(session, user=passenger)
    return bool(total or active)


async def _drive(
    db: Database, geo: RedisGeoIndex | None, policy: RidePolicy, limiter: RateLimiter, plan: DemoRide, n: int
) -> bool:
    passenger = await _principal(db, plan.passenger)
    driver_user = await _principal(db, plan.driver)
    if passenger is None or driver_user is None:
        return False
    start = datetime.now(UTC) - timedelta(days=plan.days_ago, hours=2)
    async with db.unit_of_work() as session:
        driver = await PeopleRepository(session).driver_by_user(driver_user.id)
        if driver is None or not people.is_available(driver):
            return False
        await matching.record_position(  # the driver is waiting at the pickup when the ride is asked for
            session,
            geo,
            driver_id=driver.id,
            category=plan.category,
            available=True,
            sample=matching.PositionSample(lat=plan.pickup[0], lon=plan.pickup[1], recorded_at=start),
            ride_id=None,
        )
    async with db.unit_of_work() as session:
        view = await dispatch.request_ride(
            session,
            geo,
            policy,
            user=passenger,
            pickup=plan.pickup,
            dropoff=plan.dropoff,
            category=plan.category,
            now=start,
        )
        ride_id = view.ride.id
        offered = driver.id in await RideRepository(session).asked_drivers(ride_id)
    if not offered:
        log.info("seed.ride_not_offered", ride_id=str(ride_id), driver=plan.driver)
        return False
    async with signed_in(db, driver_user.id) as session_id:
        outcome = await accept.accept_ride(
            db,
            geo=geo,
            redis=None,
            limiter=limiter,
            policy=policy,
            caller=Caller(id=driver_user.id, role="driver", session_id=session_id),
            ride_id=ride_id,
            idempotency_key=f"seed:ride:{n}:{passenger.id}",
            request_id=None,
            now=start + timedelta(seconds=12),
        )
    if outcome.status != 200:
        log.info("seed.ride_not_accepted", ride_id=str(ride_id), status=outcome.status)
        return False
    async with db.unit_of_work() as session:
        await lifecycle.driver_arrived(
            session, user=driver_user, ride_id=ride_id, now=start + timedelta(minutes=4)
        )
        await lifecycle.start_ride(
            session, user=driver_user, ride_id=ride_id, now=start + timedelta(minutes=5)
        )
        done = start + timedelta(minutes=5 + plan.minutes)
        await lifecycle.complete_ride(session, geo, policy.fraud, user=driver_user, ride_id=ride_id, now=done)
        await rating.rate_ride(
            session,
            user=passenger,
            ride_id=ride_id,
            stars=plan.stars,
            comment=None,
            now=done + timedelta(minutes=1),
        )
    return True


async def seed_rides(settings: Settings, geo: RedisGeoIndex | None) -> int:
    """The planned rides of passengers who have none yet; returns how many were completed."""
    db = Database(settings.required_database_url)
    policy = RidePolicy.from_settings(settings)
    limiter = RateLimiter(redis_url=None, enabled=False)
    completed = 0
    try:
        skip = set()
        for plan in RIDES:
            passenger = await _principal(db, plan.passenger)
            if passenger is not None and plan.passenger not in skip and await _has_rides(db, passenger):
                skip.add(plan.passenger)
        for n, plan in enumerate(RIDES, start=1):
            if plan.passenger not in skip:
                completed += await _drive(db, geo, policy, limiter, plan, n)
    finally:
        await db.dispose()
    return completed
