"""Canceling a ride: who pays (a pure rule, `cancellation_outcome`) and the cancel itself, which applies it
inside its transaction (`cancel_ride`).

A passenger cancels free before a driver accepts and during a grace window after it (they may have
changed their mind before the driver went far); later, or once the driver is at the pickup, the
driver's time is paid with a fee. A driver who gives up an accepted ride pays nothing here (their
acceptance rate suffers instead) and the ride goes back to SEARCHING so the passenger is not stranded.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from laura.identity.service import Principal
from laura.mobility import metrics
from laura.mobility.fraud import service as fraud
from laura.mobility.matching.geo_index import RedisGeoIndex
from laura.mobility.people.models import Driver
from laura.mobility.people.repository import PeopleRepository
from laura.mobility.rides.dispatch import dispatch
from laura.mobility.rides.errors import InvalidStateTransition, RideNotFound
from laura.mobility.rides.hooks import ride_canceled
from laura.mobility.rides.lifecycle import (
    RideView,
    driver_users,
    notify,
    passenger_user,
    release_driver,
    transition,
    view_of,
)
from laura.mobility.rides.models import Ride
from laura.mobility.rides.policy import RidePolicy
from laura.mobility.rides.repository import RideRepository
from laura.mobility.rides.states import RideStatus, ensure_transition

DEFAULT_CANCELLATION_FEE = Decimal("5.00")
FREE_CANCELLATION_WINDOW = timedelta(minutes=2)
NO_FEE = Decimal("0.00")

_BEFORE_ACCEPTANCE = frozenset({RideStatus.REQUESTED, RideStatus.SEARCHING, RideStatus.OFFERED})
_DRIVER_ASSIGNED = frozenset({RideStatus.ACCEPTED, RideStatus.DRIVER_ARRIVING, RideStatus.DRIVER_ARRIVED})


class CanceledBy(StrEnum):
    """Who asked to cancel."""

    PASSENGER = "passenger"
    DRIVER = "driver"


class CancellationRule(StrEnum):
    """Which rule decided the fee; recorded for audit and the rides_canceled_total{reason} metric."""

    BEFORE_ACCEPTANCE = "before_acceptance"
    GRACE_PERIOD = "grace_period"
    LATE = "late"
    DRIVER_ARRIVED = "driver_arrived"
    DRIVER_CANCELED = "driver_canceled"


@dataclass(frozen=True, slots=True)
class CancellationOutcome:
    """The state the ride moves to and the fee the passenger owes (0.00 when free)."""

    next_status: RideStatus
    fee: Decimal
    rule: CancellationRule


def cancellation_outcome(
    status: RideStatus,
    *,
    by: CanceledBy,
    accepted_at: datetime | None,
    now: datetime,
    fee: Decimal = DEFAULT_CANCELLATION_FEE,
    free_window: timedelta = FREE_CANCELLATION_WINDOW,
) -> CancellationOutcome:
    """Decide a cancellation of a ride in `status`; raises InvalidStateTransition when it cannot be canceled.

    `fee` comes from settings; `accepted_at` is the ride's column, required once a driver accepted.
    """
    status = RideStatus(status)
    if CanceledBy(by) is CanceledBy.DRIVER:
        if status not in _DRIVER_ASSIGNED:
            raise InvalidStateTransition(
                f"Ride is {status.value}; only an assigned driver can cancel it",
                details={"currentStatus": status.value, "requestedStatus": RideStatus.SEARCHING.value},
            )
        return CancellationOutcome(RideStatus.SEARCHING, NO_FEE, CancellationRule.DRIVER_CANCELED)
    ensure_transition(status, RideStatus.CANCELED)
    if status in _BEFORE_ACCEPTANCE:
        return CancellationOutcome(RideStatus.CANCELED, NO_FEE, CancellationRule.BEFORE_ACCEPTANCE)
    if status is RideStatus.DRIVER_ARRIVED:
        return CancellationOutcome(RideStatus.CANCELED, fee, CancellationRule.DRIVER_ARRIVED)
    if accepted_at is None:
        raise ValueError(f"a {status.value} ride must have accepted_at")
    if now - accepted_at <= free_window:
        return CancellationOutcome(RideStatus.CANCELED, NO_FEE, CancellationRule.GRACE_PERIOD)
    return CancellationOutcome(RideStatus.CANCELED, fee, CancellationRule.LATE)


async def cancel_ride(
    session: AsyncSession,
    geo: RedisGeoIndex | None,
    policy: RidePolicy,
    *,
    user: Principal,
    ride_id: uuid.UUID,
    reason: str,
    now: datetime,
) -> RideView:
    """Cancel as the ride's passenger or its assigned driver (anyone else: 404).

    Passenger: free before acceptance and within the grace window after it; later, or once the driver
    is at the pickup, the cancellation fee is recorded on the ride, and the cancel hooks (payments) ask
    for it. Driver: the ride goes back to SEARCHING and out to a new batch (the driver's cancellation is
    counted against them).
    """
    repo = RideRepository(session)
    ride = await repo.lock(ride_id)
    if ride is None:
        raise RideNotFound()
    people_repo = PeopleRepository(session)
    passenger = await people_repo.passenger_by_user(user.id)
    driver = await people_repo.driver_by_user(user.id)
    if passenger is not None and passenger.id == ride.passenger_id:
        by = CanceledBy.PASSENGER
    elif driver is not None and driver.id == ride.driver_id:
        by = CanceledBy.DRIVER
    else:
        raise RideNotFound()
    outcome = cancellation_outcome(
        RideStatus(ride.status),
        by=by,
        accepted_at=ride.accepted_at,
        now=now,
        fee=policy.cancellation_fee,
        free_window=timedelta(seconds=policy.free_cancellation_s),
    )
    was_assigned = ride.driver_id is not None
    await repo.count_cancellation(
        user_id=user.id, role=by.value, after_acceptance=was_assigned, with_fee=outcome.fee > 0, now=now
    )
    suspended = await fraud.cancellation_counted(
        session, policy.fraud, user_id=user.id, role=by.value, ride_id=ride.id, now=now
    )
    metrics.count_after_commit(session, metrics.RIDES_CANCELED.labels(outcome.rule.value).inc)
    metrics.refresh_gauges_after_commit(session)
    if by is CanceledBy.DRIVER:
        assert driver is not None, "a driver's cancellation has the driver"
        if suspended:  # no more offers: they could not accept them
            driver.online = False
        return await _driver_gave_up(
            session, geo, policy, ride, driver, reason=reason, now=now, actor_id=user.id
        )
    ride.canceled_by = by.value
    ride.cancel_reason = reason
    ride.cancellation_rule = outcome.rule.value
    ride.cancellation_fee = outcome.fee
    offered = await repo.close_open_offers(ride.id, response="CANCELED", now=now)
    await transition(session, ride, RideStatus.CANCELED, now=now, actor_id=user.id, reason=outcome.rule.value)
    recipients = [user.id]
    released = None
    if ride.driver_id is not None:
        released = await release_driver(session, geo, ride.driver_id)
        recipients.append(released.user_id)
    await ride_canceled(session, ride, released, now)
    view = await view_of(session, ride)
    await notify(session, "ride.canceled", view.wire(), recipients)
    await notify(
        session,
        "offer.canceled",
        {"rideId": ride.id, "reason": "RIDE_CANCELED"},
        await driver_users(session, offered),
    )
    return view


async def _driver_gave_up(
    session: AsyncSession,
    geo: RedisGeoIndex | None,
    policy: RidePolicy,
    ride: Ride,
    driver: Driver,
    *,
    reason: str,
    now: datetime,
    actor_id: uuid.UUID,
) -> RideView:
    ride.driver_id = None
    ride.dispatch_round_base = ride.dispatch_round
    await transition(
        session, ride, RideStatus.SEARCHING, now=now, actor_id=actor_id, reason=f"driver canceled: {reason}"
    )
    await release_driver(session, geo, driver.id)
    await notify(
        session,
        "ride.driver_canceled",
        {"rideId": ride.id, "status": RideStatus.SEARCHING.value},
        [await passenger_user(session, ride), driver.user_id],
    )
    await dispatch(session, geo, policy, ride, now=now, actor_id=actor_id)
    return RideView(ride)
