"""`POST /drivers/{id}/location`."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from laura.core.db import SessionDep
from laura.core.errors import ValidationFailed
from laura.identity.deps import CurrentUser
from laura.mobility.deps import GeoIndexDep, SettingsDep
from laura.mobility.matching.service import PositionSample
from laura.mobility.people.errors import DriverNotFound
from laura.mobility.rides.schemas import LocationOut, LocationRequest
from laura.mobility.rides.service import RidePolicy, utcnow
from laura.mobility.tracking import service

router = APIRouter(tags=["drivers"])


@router.post(
    "/drivers/{driver_id}/location",
    response_model=LocationOut,
    responses={404: {"description": DriverNotFound.message}, 422: {"description": ValidationFailed.message}},
)
async def report_location(
    driver_id: uuid.UUID,
    body: LocationRequest,
    user: CurrentUser,
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
    return LocationOut(
        driver_id=receipt.driver_id,
        lat=sample.lat,
        lon=sample.lon,
        recorded_at=sample.recorded_at,
        current=receipt.current,
        ride_id=receipt.ride_id,
    )
