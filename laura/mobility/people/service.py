"""Passenger profiles (made at registration) and driver onboarding: documents, car, approval, going online.

Importing this module registers the registration hook, so the app imports it through the people router.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.core.documents import normalize_cpf
from laura.core.errors import ValidationFailed
from laura.core.events import publish
from laura.identity.models import User
from laura.identity.service import Principal, on_user_registered
from laura.mobility.fraud import service as fraud
from laura.mobility.matching import service as matching
from laura.mobility.matching.geo_index import RedisGeoIndex
from laura.mobility.people.errors import (
    CnhInUse,
    DriverAlreadyRegistered,
    DriverCpfInUse,
    DriverNotApproved,
    DriverNotFound,
    DriverNotPending,
    DriverProfileRequired,
    LicensePlateInUse,
    PassengerProfileRequired,
)
from laura.mobility.people.models import ApprovalStatus, Driver, Passenger, Vehicle, VehicleStatus
from laura.mobility.people.repository import PeopleRepository
from laura.mobility.people.schemas import DriverOut, DriverRegistration, PixKeyChange
from laura.mobility.people.validation import (
    DEFAULT_MAX_VEHICLE_AGE,
    normalize_cnh,
    normalize_plate,
    vehicle_year_allowed,
)
from laura.pix.errors import InvalidPixKey
from laura.pix.keys import parse_pix_key


@on_user_registered
async def create_passenger_profile(session: AsyncSession, user: User) -> None:
    """A passenger can request rides the moment their account exists: the profile joins the registration."""
    if user.role == "passenger":
        await PeopleRepository(session).add(
            Passenger(id=uuid.uuid4(), user_id=user.id, full_name=user.name, cpf=user.cpf)
        )


@dataclass(frozen=True)
class OnboardingPolicy:
    """How old a vehicle each category accepts (years, from settings)."""

    max_vehicle_age: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_MAX_VEHICLE_AGE))


@dataclass(frozen=True)
class DriverProfile:
    driver: Driver
    vehicle: Vehicle | None


def is_available(driver: Driver) -> bool:
    """Can be offered a ride: online (which needs approval) and not on a trip."""
    approved = driver.approval_status == ApprovalStatus.APPROVED
    return driver.online and approved and driver.current_ride_id is None


async def passenger_of(session: AsyncSession, user: Principal) -> Passenger:
    """The caller's passenger profile; 403 for accounts that are not passengers."""
    passenger = await PeopleRepository(session).passenger_by_user(user.id)
    if passenger is None:
        raise PassengerProfileRequired()
    return passenger


async def driver_of(session: AsyncSession, user: Principal) -> Driver:
    """The caller's driver profile; 403 when they never registered as a driver."""
    driver = await PeopleRepository(session).driver_by_user(user.id)
    if driver is None:
        raise DriverProfileRequired()
    return driver


async def my_driver_profile(session: AsyncSession, user: Principal) -> DriverOut:
    """The caller's driver profile with its vehicle, in one query; 403 when they never registered as a driver."""
    found = await PeopleRepository(session).driver_out_of_user(user.id)
    if found is None:
        raise DriverProfileRequired()
    return found


async def own_driver(session: AsyncSession, user: Principal, driver_id: uuid.UUID) -> DriverProfile:
    """Driver `driver_id` with its vehicle, only when it is the caller's own (404 otherwise)."""
    found = await PeopleRepository(session).driver_with_vehicle(driver_id)
    if found is None or found[0].user_id != user.id:
        raise DriverNotFound()
    return DriverProfile(*found)


def _invalid(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"field": field_name, "message": message}])


async def register_driver(
    session: AsyncSession, *, user: Principal, data: DriverRegistration, policy: OnboardingPolicy, today: date
) -> DriverProfile:
    """Create a driver profile with its vehicle, PENDING_APPROVAL: documents, plate and vehicle age checked.

    A CPF, CNH or plate already registered is 409; a bad document or too old a car is 422.
    """
    repo = PeopleRepository(session)
    if await repo.driver_by_user(user.id) is not None:
        raise DriverAlreadyRegistered()
    cpf = normalize_cpf(data.cpf)
    if cpf is None:
        raise _invalid("cpf", "CPF is invalid (check digits)")
    cnh = normalize_cnh(data.cnh_number)
    if cnh is None:
        raise _invalid("cnhNumber", "CNH number is invalid (check digits)")
    plate = normalize_plate(data.vehicle.license_plate)
    if plate is None:
        raise _invalid("vehicle.licensePlate", "Licence plate must be ABC1234 or Mercosul ABC1D23")
    category = data.vehicle.category.value
    if not vehicle_year_allowed(data.vehicle.year, category, today, policy.max_vehicle_age):
        oldest = today.year - policy.max_vehicle_age.get(category, 0)
        raise _invalid("vehicle.year", f"A {category} vehicle must be from {oldest} or newer")
    try:
        pix = parse_pix_key(data.pix_key)
    except InvalidPixKey as exc:
        raise _invalid("pixKey", exc.message) from exc
    cpf_taken, cnh_taken = await repo.driver_taken(cpf=cpf, cnh=cnh)
    if cpf_taken:
        raise DriverCpfInUse()
    if cnh_taken:
        raise CnhInUse()
    if await repo.plate_taken(plate):
        raise LicensePlateInUse()
    driver = Driver(
        id=uuid.uuid4(),
        user_id=user.id,
        full_name=data.full_name,
        cpf=cpf,
        cnh_number=cnh,
        pix_key=pix.value,
        pix_key_type=pix.type.value,
        approval_status=ApprovalStatus.PENDING_APPROVAL,
        online=False,
        rating_count=0,
        rating_total=0,
        total_rides=0,
    )
    vehicle = Vehicle(
        id=uuid.uuid4(),
        driver_id=driver.id,
        license_plate=plate,
        brand=data.vehicle.brand,
        model=data.vehicle.model,
        year=data.vehicle.year,
        category=category,
        status=VehicleStatus.ACTIVE,
    )
    try:
        async with session.begin_nested():
            await repo.add(driver)
            await repo.add(vehicle)
    except IntegrityError as exc:
        raise _conflict(str(exc.orig)) from exc
    audit.record(
        session,
        action="DRIVER_REGISTERED",
        resource_type="driver",
        resource_id=str(driver.id),
        new={"approvalStatus": ApprovalStatus.PENDING_APPROVAL, "licensePlate": plate, "category": category},
    )
    return DriverProfile(driver, vehicle)


async def change_pix_key(
    session: AsyncSession, *, user: Principal, data: PixKeyChange, now: datetime
) -> DriverProfile:
    """The caller's new payout Pix key (422 if invalid), stamped with when it changed: a payout asked for
    soon after is delayed (laura.mobility.payouts). The same key again changes nothing. Audited."""
    mine = await driver_of(session, user)
    repo = PeopleRepository(session)
    driver = await repo.driver(mine.id, for_update=True)
    assert driver is not None, "the caller's driver row exists"
    try:
        pix = parse_pix_key(data.pix_key)
    except InvalidPixKey as exc:
        raise _invalid("pixKey", exc.message) from exc
    if pix.value != driver.pix_key:
        old = {"pixKeyType": driver.pix_key_type}
        driver.pix_key, driver.pix_key_type, driver.pix_key_changed_at = pix.value, pix.type.value, now
        await session.flush()
        audit.record(
            session,
            action="DRIVER_PIX_KEY_CHANGED",
            resource_type="driver",
            resource_id=str(driver.id),
            old=old,
            new={"pixKeyType": driver.pix_key_type, "changedAt": now.isoformat()},
        )
    return DriverProfile(driver, await repo.active_vehicle(driver.id))


def _conflict(detail: str) -> Exception:
    """The unique constraint a concurrent registration won, as the error the checks above would give."""
    if "license_plate" in detail:
        return LicensePlateInUse()
    if "cnh_number" in detail:
        return CnhInUse()
    if "user_id" in detail:
        return DriverAlreadyRegistered()
    return DriverCpfInUse()


async def pending_drivers(
    session: AsyncSession, *, offset: int, limit: int
) -> tuple[list[DriverProfile], int]:
    """The approval queue, oldest first."""
    rows, total = await PeopleRepository(session).pending_drivers(offset=offset, limit=limit)
    return [DriverProfile(d, v) for d, v in rows], total


async def driver_profile(session: AsyncSession, driver_id: uuid.UUID) -> DriverProfile:
    """Any driver with their vehicle, for staff reviewing them (the console's rejection page); 404 when
    there is none."""
    found = await PeopleRepository(session).driver_with_vehicle(driver_id)
    if found is None:
        raise DriverNotFound()
    return DriverProfile(*found)


async def review_driver(
    session: AsyncSession, *, admin: Principal, driver_id: uuid.UUID, approve: bool, reason: str | None = None
) -> DriverProfile:
    """Approve or reject a driver awaiting approval (audited; the driver is told over the event stream)."""
    repo = PeopleRepository(session)
    driver = await repo.driver(driver_id, for_update=True)
    if driver is None:
        raise DriverNotFound()
    if driver.approval_status != ApprovalStatus.PENDING_APPROVAL:
        raise DriverNotPending(f"The driver is {driver.approval_status}")
    old = driver.approval_status
    driver.approval_status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    driver.rejection_reason = None if approve else reason
    driver.reviewed_at = datetime.now(UTC)
    driver.reviewed_by = admin.id
    await session.flush()
    audit.record(
        session,
        action="DRIVER_APPROVED" if approve else "DRIVER_REJECTED",
        resource_type="driver",
        resource_id=str(driver.id),
        old={"approvalStatus": old},
        new={"approvalStatus": driver.approval_status, "reason": reason},
        actor_id=admin.id,
    )
    await publish(
        session,
        "driver.approved" if approve else "driver.rejected",
        {"driverId": driver.id, "approvalStatus": driver.approval_status, "reason": reason},
        user_ids=[driver.user_id],
    )
    return DriverProfile(driver, await repo.active_vehicle(driver.id))


async def set_online(
    session: AsyncSession, geo: RedisGeoIndex | None, *, user: Principal, driver_id: uuid.UUID, online: bool
) -> DriverProfile:
    """Go online (approved drivers not suspended by the anti-fraud rules only) or offline; the driver becomes findable or stops being offered rides.

    Going offline during a trip is allowed: the trip goes on, no new offer comes.
    """
    profile = await own_driver(session, user, driver_id)
    driver = await PeopleRepository(session).driver(driver_id, for_update=True)
    if driver is None:
        raise DriverNotFound()
    if online and driver.approval_status != ApprovalStatus.APPROVED:
        raise DriverNotApproved(
            f"The driver is {driver.approval_status}; only approved drivers can go online"
        )
    if online:
        await fraud.ensure_not_suspended(session, user.id)
    if driver.online != online:
        driver.online = online
        await session.flush()
        await matching.set_availability(session, geo, driver.id, is_available(driver))
    return DriverProfile(driver, profile.vehicle)


async def sync_availability(session: AsyncSession, geo: RedisGeoIndex | None, driver: Driver) -> None:
    """Re-derive whether the driver can be matched after their ride or status changed."""
    await matching.set_availability(session, geo, driver.id, is_available(driver))
