"""Demo mobility data for `laura up --demo`: passenger profiles for paula@ and pedro@, and diego@ and duda@
as approved drivers with a car each, online on Av. Paulista (idempotent).

Positions count as fresh for `mobility_location_max_age_seconds` (60 s): after that a demo driver must post
a location again (or run `laura seed` again) to be matched.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from laura.core.db import Database
from laura.core.redis_client import redis_client
from laura.identity.repository import IdentityRepository
from laura.mobility.matching import service as matching
from laura.mobility.matching.geo_index import RedisGeoIndex
from laura.mobility.people import service as people
from laura.mobility.people.models import ApprovalStatus, Driver, Vehicle, VehicleStatus
from laura.mobility.people.repository import PeopleRepository
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


def _geo(settings: Settings) -> RedisGeoIndex | None:
    redis = redis_client(settings.redis_url)
    return None if redis is None else RedisGeoIndex(redis, settings.mobility_redis_namespace)


async def seed_mobility(settings: Settings) -> None:
    """Give the demo passengers their profiles and put the demo drivers online with a fresh position."""
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
                await session.flush()
                await matching.record_position(
                    session,
                    geo,
                    driver_id=driver.id,
                    category=demo.category,
                    available=people.is_available(driver),
                    sample=matching.PositionSample(
                        lat=demo.position[0], lon=demo.position[1], recorded_at=now
                    ),
                    ride_id=driver.current_ride_id,
                )
    finally:
        if geo is not None:
            await geo.redis.aclose()
        await db.dispose()
