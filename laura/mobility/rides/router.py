"""`/rides/*` for passengers and drivers, and `/admin/rides/stats`.

Reads take `SessionDep`: a ride's state decides what its passenger or driver does next, so it is read on
the primary. Only the history of finished rides takes `ReplicaSessionDep` (the request's own session when no
replica is configured, so a request still holds one pooled connection).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from laura.core.db import SessionDep
from laura.core.errors import AppError, RateLimited
from laura.core.idempotency import (
    IdempotencyKeyHeader,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    idempotent,
)
from laura.core.observability import request_context
from laura.core.pagination import Page, PageDep
from laura.core.replica import ReplicaSessionDep
from laura.core.statement import DatabaseDep
from laura.identity.deps import AdminUser, CurrentUser
from laura.mobility.deps import DriverCaller, DriverUser, GeoIndexDep, PassengerUser, SettingsDep
from laura.mobility.fraud.errors import AccountSuspended, OutsideServiceArea
from laura.mobility.people.errors import DriverProfileRequired, PassengerProfileRequired
from laura.mobility.rides import accept, cancellation, dispatch, lifecycle, queries, quotes, rating
from laura.mobility.rides.errors import (
    ActiveRideExists,
    AlreadyRated,
    DriverBusy,
    InvalidStateTransition,
    OfferNotActive,
    RideAlreadyAccepted,
    RideNotCompleted,
    RideNotFound,
)
from laura.mobility.rides.policy import RidePolicy
from laura.mobility.rides.schemas import (
    ActiveRidesOut,
    CancelRequest,
    CreateRideRequest,
    EstimateOut,
    EstimateRequest,
    OfferOut,
    PeriodStats,
    RatingOut,
    RatingRequest,
    RideOut,
    RideStatsOut,
)
from laura.settings import Settings

router = APIRouter()


def _responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    found: dict[int, list[str]] = {}
    for error in errors:
        found.setdefault(error.status, []).append(f"{error.error}: {error.message}")
    return {code: {"description": "; ".join(texts)} for code, texts in found.items()}


def _policy(settings: Settings) -> RidePolicy:
    return RidePolicy.from_settings(settings)


@router.post(
    "/rides/estimate", tags=["rides"], response_model=EstimateOut, responses=_responses(OutsideServiceArea)
)
async def estimate(
    body: EstimateRequest, _: CurrentUser, session: SessionDep, geo: GeoIndexDep, settings: SettingsDep
) -> EstimateOut:
    """Quote a trip: distance, duration, fare with the current surge and the nearest driver's ETA."""
    quote = await quotes.estimate(
        session,
        geo,
        _policy(settings),
        pickup=(body.pickup.lat, body.pickup.lon),
        dropoff=(body.dropoff.lat, body.dropoff.lon),
        category=body.category.value,
        now=lifecycle.utcnow(),
    )
    return EstimateOut.model_validate(quote)


@router.post(
    "/rides",
    tags=["rides"],
    status_code=status.HTTP_201_CREATED,
    response_model=RideOut,
    responses=_responses(ActiveRideExists, PassengerProfileRequired, AccountSuspended, OutsideServiceArea),
)
@idempotent()
async def request_ride(
    body: CreateRideRequest, user: PassengerUser, session: SessionDep, geo: GeoIndexDep, settings: SettingsDep
) -> RideOut:
    """Request a ride: offered at once to the nearest drivers (OFFERED), or EXPIRED when none is near."""
    view = await dispatch.request_ride(
        session,
        geo,
        _policy(settings),
        user=user,
        pickup=(body.pickup.lat, body.pickup.lon),
        dropoff=(body.dropoff.lat, body.dropoff.lon),
        category=body.category.value,
        now=lifecycle.utcnow(),
    )
    return view.out()


@router.get("/rides/active", tags=["rides"], response_model=ActiveRidesOut)
async def active_rides(user: CurrentUser, session: SessionDep) -> ActiveRidesOut:
    """The caller's unfinished rides (as passenger or as driver)."""
    return ActiveRidesOut(data=[v.out() for v in await queries.active_rides(session, user=user)])


@router.get("/rides/history", tags=["rides"], response_model=Page[RideOut])
async def ride_history(user: CurrentUser, session: ReplicaSessionDep, page: PageDep) -> Page[RideOut]:
    """The caller's finished rides (completed, canceled, expired), newest first; on the replica when there
    is one."""
    views, total = await queries.ride_history(session, user=user, offset=page.offset, limit=page.limit)
    return Page[RideOut].build([v.out() for v in views], page, total)


@router.get("/rides/{ride_id}", tags=["rides"], response_model=RideOut, responses=_responses(RideNotFound))
async def get_ride(ride_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> RideOut:
    """A ride, for its passenger, its driver (or a driver it is offered to) and admins."""
    return (await queries.visible_ride(session, user=user, ride_id=ride_id, now=lifecycle.utcnow())).out()


@router.post(
    "/rides/{ride_id}/accept",
    tags=["rides"],
    response_model=RideOut,
    responses=_responses(
        IdempotencyKeyRequired,
        RideNotFound,
        RideAlreadyAccepted,
        OfferNotActive,
        DriverBusy,
        InvalidStateTransition,
        IdempotencyKeyReused,
        RateLimited,
        DriverProfileRequired,
        AccountSuspended,
    ),
)
async def accept_ride(
    ride_id: uuid.UUID,
    request: Request,
    caller: DriverCaller,
    db: DatabaseDep,
    geo: GeoIndexDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Accept an offered ride. `Idempotency-Key` is required: the same key replays the first answer.
    Exactly one driver wins; the others get 409 RIDE_ALREADY_ACCEPTED. At most 5 attempts a minute."""
    if not idempotency_key:
        raise IdempotencyKeyRequired()
    ctx = request_context()
    outcome = await accept.accept_ride(
        db,
        geo=geo,
        redis=request.app.state.redis,
        limiter=request.app.state.limiter,
        policy=_policy(settings),
        caller=caller,
        ride_id=ride_id,
        idempotency_key=idempotency_key,
        request_id=ctx.request_id if ctx else None,
        now=lifecycle.utcnow(),
    )
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


@router.post(
    "/rides/{ride_id}/reject",
    tags=["rides"],
    response_model=OfferOut,
    responses=_responses(RideNotFound, OfferNotActive, DriverProfileRequired),
)
@idempotent()
async def reject_offer(
    ride_id: uuid.UUID, user: DriverUser, session: SessionDep, geo: GeoIndexDep, settings: SettingsDep
) -> OfferOut:
    """Decline an offer; if nobody else of the batch is still deciding, the next batch goes out now."""
    offer = await dispatch.reject_offer(
        session, geo, _policy(settings), user=user, ride_id=ride_id, now=lifecycle.utcnow()
    )
    return OfferOut.model_validate(offer)


_DRIVER_STEP = _responses(RideNotFound, InvalidStateTransition, DriverProfileRequired)


@router.post("/rides/{ride_id}/arrived", tags=["rides"], response_model=RideOut, responses=_DRIVER_STEP)
@idempotent()
async def driver_arrived(ride_id: uuid.UUID, user: DriverUser, session: SessionDep) -> RideOut:
    """The assigned driver is at the pickup (DRIVER_ARRIVED); the passenger is told."""
    return (await lifecycle.driver_arrived(session, user=user, ride_id=ride_id, now=lifecycle.utcnow())).out()


@router.post("/rides/{ride_id}/start", tags=["rides"], response_model=RideOut, responses=_DRIVER_STEP)
@idempotent()
async def start_ride(ride_id: uuid.UUID, user: DriverUser, session: SessionDep) -> RideOut:
    """The passenger is on board (IN_PROGRESS)."""
    return (await lifecycle.start_ride(session, user=user, ride_id=ride_id, now=lifecycle.utcnow())).out()


@router.post("/rides/{ride_id}/complete", tags=["rides"], response_model=RideOut, responses=_DRIVER_STEP)
@idempotent()
async def complete_ride(
    ride_id: uuid.UUID, user: DriverUser, session: SessionDep, geo: GeoIndexDep, settings: SettingsDep
) -> RideOut:
    """Drop-off (COMPLETED): the final fare is computed from the distance driven and the time taken; a fare
    over the maximum or a route far longer than estimated is flagged and its driver share held for review."""
    view = await lifecycle.complete_ride(
        session, geo, _policy(settings).fraud, user=user, ride_id=ride_id, now=lifecycle.utcnow()
    )
    return view.out()


@router.post(
    "/rides/{ride_id}/cancel",
    tags=["rides"],
    response_model=RideOut,
    responses=_responses(RideNotFound, InvalidStateTransition),
)
@idempotent()
async def cancel_ride(
    ride_id: uuid.UUID,
    body: CancelRequest,
    user: CurrentUser,
    session: SessionDep,
    geo: GeoIndexDep,
    settings: SettingsDep,
) -> RideOut:
    """Cancel as the passenger (free before acceptance and for 2 minutes after; then a fee) or as the
    assigned driver (the ride goes back to SEARCHING for another driver)."""
    view = await cancellation.cancel_ride(
        session,
        geo,
        _policy(settings),
        user=user,
        ride_id=ride_id,
        reason=body.reason,
        now=lifecycle.utcnow(),
    )
    return view.out()


@router.post(
    "/rides/{ride_id}/rating",
    tags=["rides"],
    status_code=status.HTTP_201_CREATED,
    response_model=RatingOut,
    responses=_responses(RideNotFound, RideNotCompleted, AlreadyRated),
)
@idempotent()
async def rate_ride(
    ride_id: uuid.UUID, body: RatingRequest, user: CurrentUser, session: SessionDep
) -> RatingOut:
    """Rate the other side of a completed ride, once (1 to 5 stars)."""
    return RatingOut.model_validate(
        await rating.rate_ride(
            session,
            user=user,
            ride_id=ride_id,
            stars=body.stars,
            comment=body.comment,
            now=lifecycle.utcnow(),
        )
    )


@router.get("/admin/rides/stats", tags=["admin"], response_model=RideStatsOut)
async def ride_stats(_: AdminUser, session: SessionDep, settings: SettingsDep) -> RideStatsOut:
    """Rides by status today / this week / this month, acceptance and cancellation rates, average time to
    accept and average ride duration (periods start at midnight in the operation's time zone)."""
    now = lifecycle.utcnow()
    periods = await queries.ride_stats(session, timezone=settings.mobility_timezone, now=now)
    return RideStatsOut(
        generated_at=now,
        timezone=settings.mobility_timezone,
        today=PeriodStats.model_validate(periods["today"]),
        week=PeriodStats.model_validate(periods["week"]),
        month=PeriodStats.model_validate(periods["month"]),
    )
