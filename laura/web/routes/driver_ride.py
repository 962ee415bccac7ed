"""The driver's trip: where the passenger waits and goes, the steps (arrived, start, complete) as
`POST /rides/{id}/arrived|start|complete`, giving the ride up, and the simulated drive: the page's script
moves the driver toward the pickup, then the drop-off, through `/driver/location`."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import SessionDep
from laura.core.errors import AppError
from laura.identity.service import Principal
from laura.mobility.deps import GeoIndexDep
from laura.mobility.payments import service as payments
from laura.mobility.payments.errors import PaymentNotFound
from laura.mobility.rides import cancellation, lifecycle, queries
from laura.mobility.rides.cancellation import CanceledBy
from laura.mobility.rides.errors import RideNotFound
from laura.mobility.rides.states import RideStatus
from laura.web import once, ride_errors, ridemap
from laura.web.forms import FormErrors
from laura.web.i18n import N_
from laura.web.render import page
from laura.web.ride_pages import (
    FINISHED,
    STATUS_TEXT,
    cancel_fee,
    driver_position,
    not_found,
    policy,
    read_form,
    ride_markers,
    wrong_area,
)
from laura.web.session import WebUser

router = APIRouter(include_in_schema=False)
NEXT_STEP: dict[str, tuple[str, str]] = {
    RideStatus.ACCEPTED: ("arrived", N_("I am at the pickup")),
    RideStatus.DRIVER_ARRIVING: ("arrived", N_("I am at the pickup")),
    RideStatus.DRIVER_ARRIVED: ("start", N_("Start the trip")),
    RideStatus.IN_PROGRESS: ("complete", N_("Complete the trip")),
}
"""The one action the trip's page offers in each state (the label is a message id)."""
GIVE_UP_REASON = "Given up by the driver in the app"


async def trip_context(
    request: Request, session: AsyncSession, user: Principal, ride_id: uuid.UUID
) -> dict[str, Any] | None:
    try:
        view = await queries.visible_ride(session, user=user, ride_id=ride_id, now=lifecycle.utcnow())
    except RideNotFound:
        return None
    ride = view.ride
    status = RideStatus(ride.status)
    at = await driver_position(session, ride.driver_id)
    payment = None
    if status in FINISHED:
        try:
            payment = (await payments.ride_payment(session, user=user, ride_id=ride.id)).wire()
        except PaymentNotFound:
            payment = None
    target = (ride.dropoff_lat, ride.dropoff_lon) if status == RideStatus.IN_PROGRESS else None
    if status in (RideStatus.ACCEPTED, RideStatus.DRIVER_ARRIVING):
        target = (ride.pickup_lat, ride.pickup_lon)
    return {
        "ride": ride,
        "out": view.out(),
        "status_text": STATUS_TEXT[status],
        "step_labels": STATUS_TEXT,
        "next_step": NEXT_STEP.get(status),
        "can_give_up": cancel_fee(ride, policy(request), CanceledBy.DRIVER, lifecycle.utcnow()) is not None,
        "markers": ride_markers(ride, at),
        "ridemap": ridemap,
        "position": at,
        "target": target,
        "payment": payment,
    }


async def _trip_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    ride_id: uuid.UUID,
    *,
    template: str = "rides/driver_ride.html",
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    context = await trip_context(request, session, user, ride_id)
    if context is None:
        return not_found(request, user)
    return page(request, template, status_code=status, errors=errors or FormErrors(), **context)


@router.get("/driver/rides/{ride_id}", response_class=HTMLResponse)
async def trip(request: Request, ride_id: uuid.UUID, user: WebUser, session: SessionDep) -> Response:
    if refused := wrong_area(request, user, "driver"):
        return refused
    return await _trip_page(request, session, user, ride_id)


@router.get("/driver/rides/{ride_id}/panel", response_class=HTMLResponse)
async def trip_panel(request: Request, ride_id: uuid.UUID, user: WebUser, session: SessionDep) -> Response:
    if refused := wrong_area(request, user, "driver"):
        return refused
    return await _trip_page(request, session, user, ride_id, template="rides/_driver_panel.html")


@router.post("/driver/rides/{ride_id}/{step}", response_class=HTMLResponse)
async def step(
    request: Request, ride_id: uuid.UUID, step: str, user: WebUser, session: SessionDep, geo: GeoIndexDep
) -> Response:
    """arrived, start, complete or give-up; a step the ride is already past reads as a sentence."""
    if refused := wrong_area(request, user, "driver"):
        return refused
    await read_form(request)
    now = lifecycle.utcnow()
    try:
        if step == "arrived":
            await lifecycle.driver_arrived(session, user=user, ride_id=ride_id, now=now)
        elif step == "start":
            await lifecycle.start_ride(session, user=user, ride_id=ride_id, now=now)
        elif step == "complete":
            await lifecycle.complete_ride(
                session, geo, policy(request).fraud, user=user, ride_id=ride_id, now=now
            )
        elif step == "give-up":
            await cancellation.cancel_ride(
                session, geo, policy(request), user=user, ride_id=ride_id, reason=GIVE_UP_REASON, now=now
            )
            return RedirectResponse("/driver/dashboard", status_code=303)
        else:
            return not_found(request, user)
    except RideNotFound:
        return not_found(request, user)
    except AppError as error:
        await once.undo(session, error)
        errors = ride_errors.from_app_error(error)
        return await _trip_page(request, session, user, ride_id, errors=errors, status=error.status)
    return RedirectResponse(f"/driver/rides/{ride_id}", status_code=303)
