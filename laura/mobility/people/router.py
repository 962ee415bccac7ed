"""`/drivers` (onboarding, going online), `/passengers/me` and the driver approval queue under `/admin`.

Reads take `SessionDep` too: authentication already holds that session, so a request needs one pooled
connection, and what these pages show (a driver's approval, going online) is acted on at once: the primary.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, status

from laura.core.db import SessionDep
from laura.core.errors import AppError
from laura.core.idempotency import idempotent
from laura.core.pagination import Page, PageDep
from laura.identity.deps import AdminUser, CurrentUser
from laura.mobility.deps import DriverUser, GeoIndexDep, SettingsDep
from laura.mobility.fraud.errors import AccountSuspended
from laura.mobility.people import service
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
from laura.mobility.people.schemas import (
    DriverOnlineRequest,
    DriverOut,
    DriverRegistration,
    PassengerOut,
    PixKeyChange,
    RejectDriverRequest,
)

router = APIRouter()


def _responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    return {e.status: {"description": e.message} for e in errors}


def _out(profile: service.DriverProfile) -> DriverOut:
    return DriverOut.of(profile.driver, profile.vehicle)


@router.post(
    "/drivers",
    tags=["drivers"],
    status_code=status.HTTP_201_CREATED,
    response_model=DriverOut,
    responses=_responses(DriverAlreadyRegistered, DriverCpfInUse, CnhInUse, LicensePlateInUse),
)
@idempotent()
async def register_driver(
    body: DriverRegistration, user: DriverUser, session: SessionDep, settings: SettingsDep
) -> DriverOut:
    """Submit documents and vehicle; the profile waits for an admin's approval (PENDING_APPROVAL)."""
    policy = service.OnboardingPolicy(max_vehicle_age=settings.mobility_max_vehicle_age)
    today = datetime.now(ZoneInfo(settings.mobility_timezone)).date()
    return _out(await service.register_driver(session, user=user, data=body, policy=policy, today=today))


@router.get(
    "/drivers/me", tags=["drivers"], response_model=DriverOut, responses=_responses(DriverProfileRequired)
)
async def my_driver_profile(user: CurrentUser, session: SessionDep) -> DriverOut:
    """The caller's driver profile (its id is the `{id}` of the other driver routes)."""
    return await service.my_driver_profile(session, user)


@router.patch(
    "/drivers/me",
    tags=["drivers"],
    response_model=DriverOut,
    responses=_responses(DriverProfileRequired)
    | {422: {"description": "VALIDATION_ERROR (invalid Pix key)"}},
)
async def change_pix_key(body: PixKeyChange, user: CurrentUser, session: SessionDep) -> DriverOut:
    """Change the Pix key payouts go to; a payout asked for in the next 24 h is sent only 24 h after the
    change (LAURA_PAYOUT_PIX_KEY_CHANGE_DELAY_HOURS)."""
    return _out(await service.change_pix_key(session, user=user, data=body, now=datetime.now(UTC)))


@router.post(
    "/drivers/{driver_id}/online",
    tags=["drivers"],
    response_model=DriverOut,
    responses=_responses(DriverNotFound, DriverNotApproved, AccountSuspended),
)
async def set_online(
    driver_id: uuid.UUID, body: DriverOnlineRequest, user: CurrentUser, session: SessionDep, geo: GeoIndexDep
) -> DriverOut:
    """Go online to receive ride offers, or offline to stop (approved drivers only; your own id only)."""
    return _out(await service.set_online(session, geo, user=user, driver_id=driver_id, online=body.online))


@router.get(
    "/passengers/me",
    tags=["rides"],
    response_model=PassengerOut,
    responses=_responses(PassengerProfileRequired),
)
async def my_passenger_profile(user: CurrentUser, session: SessionDep) -> PassengerOut:
    """The caller's passenger profile: rating and number of rides."""
    return PassengerOut.model_validate(await service.passenger_of(session, user))


@router.get("/admin/drivers/pending", tags=["admin"], response_model=Page[DriverOut])
async def pending_drivers(_: AdminUser, session: SessionDep, page: PageDep) -> Page[DriverOut]:
    """Drivers awaiting approval, oldest first."""
    profiles, total = await service.pending_drivers(session, offset=page.offset, limit=page.limit)
    return Page[DriverOut].build([_out(p) for p in profiles], page, total)


@router.post(
    "/admin/drivers/{driver_id}/approve",
    tags=["admin"],
    response_model=DriverOut,
    responses=_responses(DriverNotFound, DriverNotPending),
)
@idempotent()
async def approve_driver(driver_id: uuid.UUID, admin: AdminUser, session: SessionDep) -> DriverOut:
    """Approve a pending driver: they may go online from now on (audited)."""
    return _out(await service.review_driver(session, admin=admin, driver_id=driver_id, approve=True))


@router.post(
    "/admin/drivers/{driver_id}/reject",
    tags=["admin"],
    response_model=DriverOut,
    responses=_responses(DriverNotFound, DriverNotPending),
)
@idempotent()
async def reject_driver(
    driver_id: uuid.UUID, body: RejectDriverRequest, admin: AdminUser, session: SessionDep
) -> DriverOut:
    """Reject a pending driver with the reason they are shown (audited)."""
    return _out(
        await service.review_driver(
            session, admin=admin, driver_id=driver_id, approve=False, reason=body.reason
        )
    )
