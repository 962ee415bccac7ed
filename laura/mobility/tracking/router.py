"""`POST /drivers/{id}/location`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from laura.core.db import SessionDep
from laura.core.errors import ValidationFailed
from laura.identity.deps import CurrentUser
from laura.identity.service import Principal
from laura.mobility.deps import GeoIndexDep, SettingsDep
from laura.mobility.fraud.errors import ImpossibleMovement
from laura.mobility.matching.service import PositionSample
from laura.mobility.people.errors import DriverNotFound
from laura.mobility.rides.lifecycle import utcnow
from laura.mobility.rides.policy import RidePolicy
from laura.mobility.tracking import service
from laura.mobility.tracking.schemas import LocationOut, LocationRequest

router = APIRouter(tags=["drivers"])


async def _location_rate_limit(request: Request, user: CurrentUser) -> Principal:
    """Per driver, instead of the per-IP default: drivers behind one carrier NAT report every few seconds."""
    await request.app.state.limiter.hit(
        request.app.state.settings.rate_limit_driver_location,
        f"location:{user.id}",
        "Too many location reports",
    )
    return user


LocationUser = Annotated[Principal, Depends(_location_rate_limit)]


@router.post(
    "/drivers/{driver_id}/location",
    response_model=LocationOut,
    responses={
        404: {"description": DriverNotFound.message},
        422: {
            "description": f"{ValidationFailed.message}; {ImpossibleMovement.error}: {ImpossibleMovement.message}"
        },
        429: {"description": "More location reports than the per-driver limit (Retry-After)"},
    },
)
async def report_location(
    driver_id: uuid.UUID,
    body: LocationRequest,
    user: LocationUser,
    session: SessionDep,
    geo: GeoIndexDep,
    settings: SettingsDep,
) -> LocationOut:
    """Report where the driver is (every few seconds while online): keeps them findable and, during a
    ride, moves them on the passenger's map (`driver.location.updated`)."""
    sample = PositionSample(
        lat=body.lat,
        lon=body.lon,
        recorded_at=body.recorded_at,
        heading=body.heading,
        speed=body.speed,
        accuracy=body.accuracy,
    )
    receipt = await service.report_location(
        session,
        geo,
        RidePolicy.from_settings(settings),
        user=user,
        driver_id=driver_id,
        sample=sample,
        now=utcnow(),
    )
    return LocationOut.model_validate(receipt)
