"""The rider's screens: pick pickup and drop-off on the city map, see the estimate and surge, confirm (once
per Idempotency-Key, as `POST /rides` with one), follow the ride, cancel with its fee shown, rate, pay its
Pix charge, and the history. Each calls the services the `/rides` API routes call."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from laura.core.db import SessionDep
from laura.core.errors import AppError
from laura.core.replica import ReplicaSessionDep
from laura.mobility.categories import VehicleCategory
from laura.mobility.deps import GeoIndexDep
from laura.mobility.rides import dispatch, lifecycle, queries, quotes
from laura.mobility.rides.errors import ActiveRideExists
from laura.mobility.rides.schemas import EstimateOut, RideOut
from laura.web import once, ride_errors, ridemap
from laura.web.forms import FormErrors
from laura.web.i18n import N_
from laura.web.render import page
from laura.web.ride_pages import (
    CATEGORY_TEXT,
    STATUS_TEXT,
    Marker,
    distance_text,
    fingerprint,
    form_markers,
    form_point,
    minutes,
    multiplier_text,
    policy,
    read_form,
    wrong_area,
)
from laura.web.session import WebUser

router = APIRouter(include_in_schema=False)
_DEFAULTS = {"pickup_place": "masp", "dropoff_place": "ibirapuera", "category": "standard"}
HISTORY_PAGE = 20


def _form_page(request: Request, values: dict[str, str], errors: FormErrors, status: int = 200) -> Response:
    return page(
        request,
        "rides/rider_new.html",
        status_code=status,
        values=values,
        errors=errors,
        places=ridemap.PLACES,
        categories=[c.value for c in VehicleCategory],
        category_labels=CATEGORY_TEXT,
        ridemap=ridemap,
        markers=form_markers(values),
    )


def _points(values: dict[str, str], errors: FormErrors) -> tuple[tuple[float, float] | None, ...]:
    pickup = form_point(values, "pickup", errors)
    dropoff = form_point(values, "dropoff", errors)
    if values.get("category") not in {c.value for c in VehicleCategory}:
        errors.add("category", N_("Choose a category."))
    return pickup, dropoff


@router.get("/rider/new", response_class=HTMLResponse)
async def new_ride(request: Request, user: WebUser, session: SessionDep) -> Response:
    """The request form; a rider with a ride under way is taken to it (one ride at a time)."""
    if refused := wrong_area(request, user, "passenger"):
        return refused
    active = await queries.active_rides(session, user=user)
    if active:
        return RedirectResponse(f"/rider/rides/{active[0].ride.id}", status_code=303)
    return _form_page(request, dict(_DEFAULTS), FormErrors())


@router.post("/rider/estimate", response_class=HTMLResponse)
async def estimate(request: Request, user: WebUser, session: SessionDep, geo: GeoIndexDep) -> Response:
    """Step one: the quote (distance, time, fare with surge, nearest driver); nothing is requested yet."""
    if refused := wrong_area(request, user, "passenger"):
        return refused
    values = await read_form(request)
    errors = FormErrors()
    pickup, dropoff = _points(values, errors)
    if errors or pickup is None or dropoff is None:
        return _form_page(request, values, errors, 422)
    try:
        quote = await quotes.estimate(
            session,
            geo,
            policy(request),
            pickup=pickup,
            dropoff=dropoff,
            category=values["category"],
            now=lifecycle.utcnow(),
        )
    except AppError as error:
        await once.undo(session, error)
        return _form_page(request, values, ride_errors.from_app_error(error), error.status)
    return page(
        request,
        "rides/rider_confirm.html",
        estimate=EstimateOut.model_validate(quote),
        pickup=pickup,
        dropoff=dropoff,
        category=values["category"],
        category_label=CATEGORY_TEXT[values["category"]],
        idempotency_key=str(uuid.uuid4()),
        ridemap=ridemap,
        markers=[Marker("pickup", N_("Pickup"), *pickup), Marker("dropoff", N_("Drop-off"), *dropoff)],
        distance=distance_text(request, quote.distance_m),
        minutes=minutes(quote.duration_s),
        surge=multiplier_text(request, quote.surge),
    )


@router.post("/rider/rides", response_class=HTMLResponse)
async def request_ride(request: Request, user: WebUser, session: SessionDep, geo: GeoIndexDep) -> Response:
    """Step two: the ride is requested and offered to the nearest drivers, once per Idempotency-Key."""
    if refused := wrong_area(request, user, "passenger"):
        return refused
    values = await read_form(request)
    errors = FormErrors()
    pickup, dropoff = _points(values, errors)
    key = once.valid_key(values.get("idempotency_key"))
    if errors or pickup is None or dropoff is None or key is None:
        return _form_page(request, values, errors or ride_errors.from_code("VALIDATION_ERROR"), 422)

    async def work() -> RideOut:
        view = await dispatch.request_ride(
            session,
            geo,
            policy(request),
            user=user,
            pickup=pickup,
            dropoff=dropoff,
            category=values["category"],
            now=lifecycle.utcnow(),
        )
        return view.out()

    try:
        ride = await once.once(request, session, key, fingerprint(request, values), work, status=201)
    except ActiveRideExists:
        return RedirectResponse("/rider/new", status_code=303)  # which shows the ride under way
    except AppError as error:
        return _form_page(request, values, ride_errors.from_app_error(error), error.status)
    if isinstance(ride, once.Replayed):
        answer = ride.body
        if ride.status < 300 and "id" in answer:
            return RedirectResponse(f"/rider/rides/{answer['id']}", status_code=303)
        if answer.get("error") == ActiveRideExists.error:
            return RedirectResponse("/rider/new", status_code=303)
        return _form_page(request, values, ride_errors.from_answer(answer), ride.status)
    return RedirectResponse(f"/rider/rides/{ride.id}", status_code=303)


@router.get("/rider/history", response_class=HTMLResponse)
async def history(request: Request, user: WebUser, session: ReplicaSessionDep, offset: int = 0) -> Response:
    """Finished rides, newest first, a page at a time."""
    if refused := wrong_area(request, user, "passenger"):
        return refused
    start = max(offset, 0)
    views, total = await queries.ride_history(session, user=user, offset=start, limit=HISTORY_PAGE)
    return page(
        request,
        "rides/rider_history.html",
        rides=[v.ride for v in views],
        total=total,
        offset=start,
        next_offset=start + HISTORY_PAGE if start + HISTORY_PAGE < total else None,
        status_texts=STATUS_TEXT,
    )
