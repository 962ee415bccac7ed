"""The driver's screens before a trip: sign-up with documents and vehicle, the wait for approval, going online
and offline, the offers with their countdown (accept once per Idempotency-Key, as `POST /rides/{id}/accept`
requires; decline), and the position reports the page's script sends (as `POST /drivers/{id}/location`
does, on the same per-driver rate limit). Each calls the services the API routes call."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import SessionDep
from laura.core.errors import AppError
from laura.core.observability import request_context
from laura.core.statement import DatabaseDep
from laura.identity.service import Caller, Principal
from laura.mobility.categories import VehicleCategory
from laura.mobility.deps import GeoIndexDep
from laura.mobility.matching import service as matching
from laura.mobility.matching.service import PositionSample
from laura.mobility.people import service as people
from laura.mobility.people.errors import DriverProfileRequired
from laura.mobility.people.models import ApprovalStatus
from laura.mobility.people.schemas import DriverOut, DriverRegistration
from laura.mobility.rides import accept, dispatch, lifecycle, queries
from laura.mobility.rides.errors import RideNotFound
from laura.mobility.tracking import service as tracking
from laura.web import once, ride_errors, ridemap
from laura.web.forms import FormErrors
from laura.web.i18n import N_
from laura.web.render import gettext, page
from laura.web.ride_pages import CATEGORY_TEXT, Marker, distance_text, policy, read_form, wrong_area
from laura.web.session import WebUser

router = APIRouter(include_in_schema=False)
_SIGNUP_FIELDS = ("full_name", "cpf", "cnh_number", "pix_key", "plate", "brand", "model", "year", "category")
START = ridemap.place("masp")
"""Where a driver's first simulated position is, before they ever reported one."""


async def _profile(session: AsyncSession, user: Principal) -> DriverOut | None:
    try:
        return await people.my_driver_profile(session, user)
    except DriverProfileRequired:
        return None


def _signup_page(request: Request, values: dict[str, str], errors: FormErrors, status: int = 200) -> Response:
    return page(
        request,
        "rides/driver_signup.html",
        status_code=status,
        values=values,
        errors=errors,
        categories=[c.value for c in VehicleCategory],
        category_labels=CATEGORY_TEXT,
    )


@router.get("/driver/signup", response_class=HTMLResponse)
async def signup_form(request: Request, user: WebUser, session: SessionDep) -> Response:
    if refused := wrong_area(request, user, "driver"):
        return refused
    if await _profile(session, user) is not None:
        return RedirectResponse("/driver/dashboard", status_code=303)
    return _signup_page(request, {"category": "standard"}, FormErrors())


def _registration(values: dict[str, str]) -> DriverRegistration:
    return DriverRegistration.model_validate(
        {
            "fullName": values["full_name"],
            "cpf": values["cpf"],
            "cnhNumber": values["cnh_number"],
            "pixKey": values["pix_key"],
            "vehicle": {
                "licensePlate": values["plate"],
                "brand": values["brand"],
                "model": values["model"],
                "year": values["year"] if values["year"].isdigit() else 0,
                "category": values["category"],
            },
        }
    )


def _validation_errors(error: ValidationError) -> FormErrors:
    errors = FormErrors()
    for item in error.errors():
        loc = [str(part) for part in item.get("loc", ())]
        errors.add(*ride_errors.field_error(".".join(loc)))
    return errors


@router.post("/driver/signup", response_class=HTMLResponse)
async def signup(request: Request, user: WebUser, session: SessionDep) -> Response:
    """Documents and vehicle, as `POST /drivers`: the profile then waits for an admin (PENDING_APPROVAL)."""
    if refused := wrong_area(request, user, "driver"):
        return refused
    form = await read_form(request)
    values = {name: form.get(name, "") for name in _SIGNUP_FIELDS}
    try:
        data = _registration(values)
    except ValidationError as error:
        return _signup_page(request, values, _validation_errors(error), 422)
    settings = request.app.state.settings
    try:
        await people.register_driver(
            session,
            user=user,
            data=data,
            policy=people.OnboardingPolicy(max_vehicle_age=settings.mobility_max_vehicle_age),
            today=datetime.now(ZoneInfo(settings.mobility_timezone)).date(),
        )
    except AppError as error:
        await once.undo(session, error)
        return _signup_page(request, values, ride_errors.from_app_error(error), error.status)
    return RedirectResponse("/driver/dashboard", status_code=303)


async def _offers(session: AsyncSession, request: Request, user: Principal) -> list[dict[str, Any]]:
    now = lifecycle.utcnow()
    found = await queries.open_offers(session, user=user, now=now)
    return [
        {
            "offer": offer,
            "ride": ride,
            "to_pickup": distance_text(request, offer.distance_m),
            "trip": distance_text(request, ride.estimated_distance_m),
            "category": CATEGORY_TEXT.get(ride.category, ride.category),
            "key": str(uuid.uuid4()),
            "left": max(0, int((offer.expires_at - now).total_seconds())),
            "from_place": ridemap.nearest(ride.pickup_lat, ride.pickup_lon),
            "to_place": ridemap.nearest(ride.dropoff_lat, ride.dropoff_lon),
        }
        for offer, ride in found
    ]


async def _dashboard(
    request: Request, session: AsyncSession, user: Principal, errors: FormErrors, status: int = 200
) -> Response:
    profile = await _profile(session, user)
    if profile is None:
        return RedirectResponse("/driver/signup", status_code=303)
    approved = profile.approval_status == ApprovalStatus.APPROVED
    position = await matching.current_position(session, profile.id) if approved else None
    at = (position.lat, position.lon) if position else (START.lat, START.lon) if START else None
    return page(
        request,
        "rides/driver_home.html",
        status_code=status,
        profile=profile,
        approved=approved,
        offers=await _offers(session, request, user) if approved and profile.online else [],
        errors=errors,
        ridemap=ridemap,
        position=at,
        markers=[Marker("driver", "Driver", *at)] if at else [],
        places=ridemap.PLACES,
    )


@router.get("/driver/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, user: WebUser, session: SessionDep) -> Response:
    if refused := wrong_area(request, user, "driver"):
        return refused
    return await _dashboard(request, session, user, FormErrors())


@router.get("/driver/offers", response_class=HTMLResponse)
async def offers(request: Request, user: WebUser, session: SessionDep) -> Response:
    """The offers list alone, for the live events to refresh it in place."""
    if refused := wrong_area(request, user, "driver"):
        return refused
    profile = await _profile(session, user)
    listed = await _offers(session, request, user) if profile and profile.online else []
    return page(request, "rides/_driver_offers.html", offers=listed, ridemap=ridemap, profile=profile)


@router.post("/driver/online", response_class=HTMLResponse)
async def online(request: Request, user: WebUser, session: SessionDep, geo: GeoIndexDep) -> Response:
    if refused := wrong_area(request, user, "driver"):
        return refused
    form = await read_form(request)
    profile = await _profile(session, user)
    if profile is None:
        return RedirectResponse("/driver/signup", status_code=303)
    try:
        await people.set_online(
            session, geo, user=user, driver_id=profile.id, online=form.get("online") == "true"
        )
    except AppError as error:
        await once.undo(session, error)
        return await _dashboard(request, session, user, ride_errors.from_app_error(error), error.status)
    return RedirectResponse("/driver/dashboard", status_code=303)


@router.post("/driver/offers/{ride_id}/accept", response_class=HTMLResponse)
async def accept_offer(
    request: Request,
    ride_id: uuid.UUID,
    user: WebUser,
    session: SessionDep,
    db: DatabaseDep,
    geo: GeoIndexDep,
) -> Response:
    """Exactly one driver wins the ride; a double click or a refresh replays this driver's first answer."""
    if refused := wrong_area(request, user, "driver"):
        return refused
    key = once.valid_key((await read_form(request)).get("idempotency_key"))
    if key is None:
        return await _dashboard(request, session, user, ride_errors.from_code("VALIDATION_ERROR"), 422)
    ctx = request_context()
    outcome = await accept.accept_ride(
        db,
        geo=geo,
        redis=request.app.state.redis,
        limiter=request.app.state.limiter,
        policy=policy(request),
        caller=Caller(id=user.id, role=user.role, session_id=user.session_id),
        ride_id=ride_id,
        idempotency_key=key,
        request_id=ctx.request_id if ctx else None,
        now=lifecycle.utcnow(),
    )
    if outcome.status < 300:
        return RedirectResponse(f"/driver/rides/{ride_id}", status_code=303)
    return await _dashboard(request, session, user, ride_errors.from_answer(outcome.body), outcome.status)


@router.post("/driver/offers/{ride_id}/decline", response_class=HTMLResponse)
async def decline_offer(
    request: Request, ride_id: uuid.UUID, user: WebUser, session: SessionDep, geo: GeoIndexDep
) -> Response:
    if refused := wrong_area(request, user, "driver"):
        return refused
    await read_form(request)
    try:
        await dispatch.reject_offer(
            session, geo, policy(request), user=user, ride_id=ride_id, now=lifecycle.utcnow()
        )
    except RideNotFound:
        return RedirectResponse("/driver/dashboard", status_code=303)
    except AppError as error:
        await once.undo(session, error)
        return await _dashboard(request, session, user, ride_errors.from_app_error(error), error.status)
    return RedirectResponse("/driver/dashboard", status_code=303)


def _coordinate(text: str | None, low: float, high: float) -> float | None:
    try:
        value = float(text or "")
    except ValueError:
        return None
    return value if low <= value <= high else None


@router.post("/driver/location")
async def location(request: Request, user: WebUser, session: SessionDep, geo: GeoIndexDep) -> Response:
    """One position from the page's script (the simulated drive); stamped with the server's clock."""
    if user.role != "driver":
        return JSONResponse(
            {"error": gettext(request, N_("Only drivers report a position."))}, status_code=404
        )
    form = await read_form(request)
    lat, lon = _coordinate(form.get("lat"), -90, 90), _coordinate(form.get("lon"), -180, 180)
    profile = await _profile(session, user)
    if lat is None or lon is None or profile is None:
        return JSONResponse({"error": gettext(request, N_("That position is not valid."))}, status_code=422)
    settings = request.app.state.settings
    try:
        await request.app.state.limiter.hit(
            settings.rate_limit_driver_location, f"location:{user.id}", "Too many location reports"
        )
        receipt = await tracking.report_location(
            session,
            geo,
            policy(request),
            user=user,
            driver_id=profile.id,
            sample=PositionSample(lat=lat, lon=lon, recorded_at=lifecycle.utcnow()),
            now=lifecycle.utcnow(),
        )
    except AppError as error:
        await once.undo(session, error)
        message = ride_errors.from_app_error(error).fields.popitem()[1]
        return JSONResponse({"error": gettext(request, message)}, status_code=error.status)
    return JSONResponse(
        {"lat": receipt.lat, "lon": receipt.lon, "rideId": str(receipt.ride_id or "") or None}
    )
