"""Who pays when a ride is canceled, as a pure rule the cancel endpoint applies inside its transaction.

A passenger cancels free before a driver accepts and during a grace window after it (they may have
changed their mind before the driver went far); later, or once the driver is at the pickup, the
driver's time is paid with a fee. A driver who gives up an accepted ride pays nothing here (their
acceptance rate suffers instead) and the ride goes back to SEARCHING so the passenger is not stranded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from laura.mobility.rides.errors import InvalidStateTransition
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
