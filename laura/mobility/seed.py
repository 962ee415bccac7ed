"""Demo mobility data for `laura up --demo`: passenger profiles for paula@ and pedro@, diego@ and duda@
as approved drivers with a car each and a few past rides, online on Av. Paulista, and for the operations
console rafa@ waiting for approval (registered through the onboarding service) and an open anti-fraud flag
on pedro@ (idempotent).

Positions count as fresh for `mobility_location_max_age_seconds` (60 s): after that a demo driver must post
a location again (or run `laura seed` again) to be matched.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from laura.core.db import Database
from laura.core.redis_client import redis_client
from laura.identity.repository import IdentityRepository
from laura.identity.service import Principal
from laura.mobility.fraud import service as fraud
from laura.mobility.fraud.models import Rule
from laura.mobility.fraud.policy import FraudPolicy
from laura.mobility.history_seed import seed_rides
from laura.mobility.matching import service as matching
from laura.mobility.matching.geo_index import RedisGeoIndex
from laura.mobility.people import service as people
from laura.mobility.people.models import ApprovalStatus, Driver, Vehicle, VehicleStatus
from laura.mobility.people.repository import PeopleRepository
from laura.mobility.people.schemas import DriverRegistration, VehicleIn
from laura.settings import Settings

DEMO_PASSENGERS = ("paula@laura.dev", "pedro@laura.dev")


@dataclass(frozen=True)
class DemoDriver:
    email: str
    cnh: str
    plate: str
    brand: str
    model: str
    age_years: int
    category: str
    position: tuple[float, float]


DEMO_DRIVERS = (
    DemoDriver(
        "diego@laura.dev", "02650306461", "RIO2A18", "Chevrolet", "Onix", 2, "standard", (-23.5614, -46.6559)
    ),
    DemoDriver(
        "duda@laura.dev", "73415290823", "SPX7H42", "Toyota", "Corolla", 1, "comfort", (-23.5587, -46.6601)
    ),
)
"""Diego at MASP, Duda by Consolação station."""
PENDING_DRIVER = ("rafa@laura.dev", "58203917488", "FJK3C27", "Hyundai", "HB20", 3, "standard")
"""A driver who registered and waits for an admin's decision in the console."""
FLAGGED_PASSENGER = "pedro@laura.dev"


def _geo(settings: Settings) -> RedisGeoIndex | None:
    redis = redis_client(settings.redis_url)
    return None if redis is None else RedisGeoIndex(redis, settings.mobility_redis_namespace)


async def seed_mobility(settings: Settings) -> None:
    """Give the demo passengers their profiles, the demo drivers a few past rides (`history_seed`), and put
    the drivers online with a fresh position."""
    db = Database(settings.required_database_url)
    geo = _geo(settings)
    now = datetime.now(UTC)
    try:
        async with db.unit_of_work() as session:
            users = IdentityRepository(session)
            repo = PeopleRepository(session)
            for email in DEMO_PASSENGERS:
                user = await users.user_by_email(email)
                if user is not None and await repo.passenger_by_user(user.id) is None:
                    await people.create_passenger_profile(session, user)
            for demo in DEMO_DRIVERS:
                user = await users.user_by_email(demo.email)
                if user is None:
                    continue
                driver = await repo.driver_by_user(user.id)
                if driver is None:
                    driver = Driver(
                        id=uuid.uuid4(),
                        user_id=user.id,
                        full_name=user.name,
                        cpf=user.cpf,
                        cnh_number=demo.cnh,
                        pix_key=user.email,
                        pix_key_type="EMAIL",
                        approval_status=ApprovalStatus.APPROVED,
                        reviewed_at=now,
                        online=True,
                        rating_count=0,
                        rating_total=0,
                        total_rides=0,
                    )
                    await repo.add(driver)
                    await repo.add(
                        Vehicle(
                            id=uuid.uuid4(),
                            driver_id=driver.id,
                            license_plate=demo.plate,
                            brand=demo.brand,
                            model=demo.model,
                            year=now.year - demo.age_years,
                            category=demo.category,
                            status=VehicleStatus.ACTIVE,
                        )
                    )
                driver.online = driver.approval_status == ApprovalStatus.APPROVED
        await seed_rides(settings, geo)  # before the fresh positions: each ride moves its driver
        async with db.unit_of_work() as session:
            users = IdentityRepository(session)
            repo = PeopleRepository(session)
            for demo in DEMO_DRIVERS:
                user = await users.user_by_email(demo.email)
                driver = await repo.driver_by_user(user.id) if user is not None else None
                if driver is None:
                    continue
                await matching.record_position(
                    session,
                    geo,
                    driver_id=driver.id,
                    category=demo.category,
                    available=people.is_available(driver),
                    sample=matching.PositionSample(
                        lat=demo.position[0], lon=demo.position[1], recorded_at=datetime.now(UTC)
                    ),
                    ride_id=driver.current_ride_id,
                )
    finally:
        if geo is not None:
            await geo.redis.aclose()
        await db.dispose()


async def seed_review_items(settings: Settings) -> None:
    """What the console's review queues show: rafa@'s registration awaiting approval and one open flag."""
    db = Database(settings.required_database_url)
    now = datetime.now(UTC)
    try:
        async with db.unit_of_work() as session:
            email, cnh, plate, brand, model, age, category = PENDING_DRIVER
            user = await IdentityRepository(session).user_by_email(email)
            if user is not None and await PeopleRepository(session).driver_by_user(user.id) is None:
                principal = Principal(
                    id=user.id, role=user.role, email=user.email, name=user.name, session_id=uuid.uuid4()
                )
                await people.register_driver(
                    session,
                    user=principal,
                    data=DriverRegistration(
                        full_name=user.name,
                        cpf=user.cpf or "",
                        cnh_number=cnh,
                        pix_key=user.email,
                        vehicle=VehicleIn(
                            license_plate=plate,
                            brand=brand,
                            model=model,
                            year=now.year - age,
                            category=category,
                        ),
                    ),
                    policy=people.OnboardingPolicy(max_vehicle_age=settings.mobility_max_vehicle_age),
                    today=datetime.now(ZoneInfo(settings.mobility_timezone)).date(),
                )
        async with db.unit_of_work() as session:
            passenger = await IdentityRepository(session).user_by_email(FLAGGED_PASSENGER)
            if passenger is None:
                return
            trust = await fraud.user_trust(session, passenger.id, now=now)
            if trust.signals.open_flags or trust.signals.confirmed_flags:
                return
            await fraud.raise_flag(
                session,
                FraudPolicy(timezone=settings.mobility_timezone),
                user_id=passenger.id,
                rule=Rule.CANCELLATION_ABUSE,
                now=now,
                details={"cancellations24h": 11, "seed": True},
            )
    finally:
        await db.dispose()
