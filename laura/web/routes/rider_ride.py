"""One ride as its rider follows it: the status, the driver and car, the driver's position on the map, the
cancellation with the fee it costs now, then the rating and the ride's Pix charge (QR Code and copy and
paste). The panel is also served alone, for the live events to refresh it in place."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import SessionDep
from laura.core.errors import AppError
from laura.core.statement import DatabaseDep
from laura.identity.service import Caller, Principal
from laura.mobility.deps import GeoIndexDep
from laura.mobility.payments import service as payments
from laura.mobility.payments.errors import PaymentNotFound
from laura.mobility.rides import cancellation, lifecycle, queries, rating
from laura.mobility.rides.cancellation import CanceledBy
from laura.mobility.rides.errors import RideNotFound
from laura.mobility.rides.schemas import RideOut
from laura.mobility.rides.states import RideStatus
from laura.pix.deps import PspDep
from laura.web import once, ride_errors, ridemap
from laura.web.forms import FormErrors
from laura.web.render import page
from laura.web.ride_pages import (
    CANCELABLE,
    FINISHED,
    STATUS_TEXT,
    cancel_fee,
    driver_position,
    fingerprint,
    not_found,
    policy,
    read_form,
    ride_markers,
    wrong_area,
)
from laura.web.session import WebUser

router = APIRouter(include_in_schema=False)
_ON_THE_WAY = frozenset(
    {RideStatus.ACCEPTED, RideStatus.DRIVER_ARRIVING, RideStatus.DRIVER_ARRIVED, RideStatus.IN_PROGRESS}
)
CANCEL_REASON = "Canceled by the passenger in the app"


async def ride_context(
    request: Request, session: AsyncSession, user: Principal, ride_id: uuid.UUID
) -> dict[str, Any] | None:
    """Everything the ride's page shows; None when the ride is not the rider's (404)."""
    now = lifecycle.utcnow()
    try:
        view = await queries.visible_ride(session, user=user, ride_id=ride_id, now=now)
    except RideNotFound:
        return None
    ride = view.ride
    status = RideStatus(ride.status)
    payment = None
    if status in FINISHED:
        try:
            payment = (await payments.ride_payment(session, user=user, ride_id=ride.id)).wire()
        except PaymentNotFound:
            payment = None
    at = await driver_position(session, ride.driver_id) if status in _ON_THE_WAY else None
    return {
        "ride": ride,
        "out": view.out(),
        "status_text": STATUS_TEXT[status],
        "step_labels": STATUS_TEXT,
        "markers": ride_markers(ride, at),
        "ridemap": ridemap,
        "fee": cancel_fee(ride, policy(request), CanceledBy.PASSENGER, now) if status in CANCELABLE else None,
        "finished": status in FINISHED,
        "rated": await rating.my_rating(session, user=user, ride_id=ride.id) if status in FINISHED else None,
        "payment": payment,
        "idempotency_key": str(uuid.uuid4()),
    }


async def _ride_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    ride_id: uuid.UUID,
    *,
    template: str = "rides/rider_ride.html",
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    context = await ride_context(request, session, user, ride_id)
    if context is None:
        return not_found(request, user)
    return page(request, template, status_code=status, errors=errors or FormErrors(), **context)


@router.get("/rider/rides/{ride_id}", response_class=HTMLResponse)
async def ride_page(request: Request, ride_id: uuid.UUID, user: WebUser, session: SessionDep) -> Response:
    if refused := wrong_area(request, user, "passenger"):
        return refused
    return await _ride_page(request, session, user, ride_id)


@router.get("/rider/rides/{ride_id}/panel", response_class=HTMLResponse)
async def ride_panel(request: Request, ride_id: uuid.UUID, user: WebUser, session: SessionDep) -> Response:
    """The page's live part alone (htmx swaps it in when an event about the ride arrives)."""
    if refused := wrong_area(request, user, "passenger"):
        return refused
    return await _ride_page(request, session, user, ride_id, template="rides/_rider_panel.html")


@router.post("/rider/rides/{ride_id}/cancel", response_class=HTMLResponse)
async def cancel(
    request: Request, ride_id: uuid.UUID, user: WebUser, session: SessionDep, geo: GeoIndexDep
) -> Response:
    """Cancel (the fee the page showed applies); a repeat of the same form changes nothing."""
    if refused := wrong_area(request, user, "passenger"):
        return refused
    values = await read_form(request)
    key = once.valid_key(values.get("idempotency_key"))
    if key is None:
        return await _ride_page(request, session, user, ride_id, status=422)

    async def work() -> RideOut:
        view = await cancellation.cancel_ride(
            session,
            geo,
            policy(request),
            user=user,
            ride_id=ride_id,
            reason=CANCEL_REASON,
            now=lifecycle.utcnow(),
        )
        return view.out()

    try:
        done = await once.once(request, session, key, fingerprint(request, values), work, status=200)
    except RideNotFound:
        return not_found(request, user)
    except AppError as error:
        errors = ride_errors.from_app_error(error)
        return await _ride_page(request, session, user, ride_id, errors=errors, status=error.status)
    if isinstance(done, once.Replayed) and done.status >= 300:
        errors = ride_errors.from_answer(done.body)
        return await _ride_page(request, session, user, ride_id, errors=errors, status=done.status)
    return RedirectResponse(f"/rider/rides/{ride_id}", status_code=303)


@router.post("/rider/rides/{ride_id}/rating", response_class=HTMLResponse)
async def rate(request: Request, ride_id: uuid.UUID, user: WebUser, session: SessionDep) -> Response:
    if refused := wrong_area(request, user, "passenger"):
        return refused
    values = await read_form(request)
    errors = FormErrors()
    stars = int(values["stars"]) if values.get("stars", "").isdigit() else 0
    comment = values.get("comment") or None
    if not 1 <= stars <= 5:
        errors.add(*ride_errors.field_error("stars"))
    if comment is not None and len(comment) > 500:
        errors.add(*ride_errors.field_error("comment"))
    if errors:
        return await _ride_page(request, session, user, ride_id, errors=errors, status=422)
    try:
        await rating.rate_ride(
            session, user=user, ride_id=ride_id, stars=stars, comment=comment, now=lifecycle.utcnow()
        )
    except RideNotFound:
        return not_found(request, user)
    except AppError as error:
        await once.undo(session, error)
        errors = ride_errors.from_app_error(error)
        return await _ride_page(request, session, user, ride_id, errors=errors, status=error.status)
    return RedirectResponse(f"/rider/rides/{ride_id}", status_code=303)


@router.post("/rider/rides/{ride_id}/payment", response_class=HTMLResponse)
async def new_charge(
    request: Request,
    ride_id: uuid.UUID,
    user: WebUser,
    session: SessionDep,
    db: DatabaseDep,
    psp: PspDep,
) -> Response:
    """A fresh Pix charge when the last one expired (the live one, unchanged, otherwise). As
    `POST /payments/intent`, the service runs its own short units of work: none is open while the PSP
    answers (the page's session is only read from afterwards)."""
    if refused := wrong_area(request, user, "passenger"):
        return refused
    try:
        await payments.request_payment(
            db,
            psp,
            caller=Caller(id=user.id, role=user.role, session_id=user.session_id),
            ride_id=ride_id,
            now=lifecycle.utcnow(),
            pix_key=request.app.state.settings.psp_pix_key,
        )
    except RideNotFound:
        return not_found(request, user)
    except AppError as error:
        errors = ride_errors.from_app_error(error)
        return await _ride_page(request, session, user, ride_id, errors=errors, status=error.status)
    return RedirectResponse(f"/rider/rides/{ride_id}", status_code=303)
