"""The ride state machine: one table of allowed transitions that every status change goes through.

    REQUESTED -> SEARCHING -> OFFERED -> ACCEPTED -> DRIVER_ARRIVING -> DRIVER_ARRIVED -> IN_PROGRESS
      -> COMPLETED -> PAYMENT_PENDING -> PAID

A ride is created REQUESTED and starts SEARCHING in the same transaction (spec, flow 1); offers to
a batch of drivers make it OFFERED, and when the batch expires or everyone declines it goes back to
SEARCHING for the next batch. A driver who cancels after accepting, before the trip starts, sends it
back to SEARCHING too (as Uber/99 re-dispatch). The passenger may cancel until the trip starts; a
search that finds nobody in time EXPIRES. Completion asks for payment (PAYMENT_PENDING, the Pix
charge) and the confirmed payment makes it PAID. PAID, CANCELED and EXPIRED are final: refunds and
fees are ledger movements, not ride states.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from laura.mobility.rides.errors import InvalidStateTransition


class RideStatus(StrEnum):
    """The twelve states of a ride; values are the wire and database spelling."""

    REQUESTED = "REQUESTED"
    SEARCHING = "SEARCHING"
    OFFERED = "OFFERED"
    ACCEPTED = "ACCEPTED"
    DRIVER_ARRIVING = "DRIVER_ARRIVING"
    DRIVER_ARRIVED = "DRIVER_ARRIVED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    PAYMENT_PENDING = "PAYMENT_PENDING"
    PAID = "PAID"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


TRANSITIONS: Mapping[RideStatus, frozenset[RideStatus]] = {
    RideStatus.REQUESTED: frozenset({RideStatus.SEARCHING, RideStatus.CANCELED}),
    RideStatus.SEARCHING: frozenset({RideStatus.OFFERED, RideStatus.CANCELED, RideStatus.EXPIRED}),
    RideStatus.OFFERED: frozenset(
        {RideStatus.ACCEPTED, RideStatus.SEARCHING, RideStatus.CANCELED, RideStatus.EXPIRED}
    ),
    RideStatus.ACCEPTED: frozenset({RideStatus.DRIVER_ARRIVING, RideStatus.SEARCHING, RideStatus.CANCELED}),
    RideStatus.DRIVER_ARRIVING: frozenset(
        {RideStatus.DRIVER_ARRIVED, RideStatus.SEARCHING, RideStatus.CANCELED}
    ),
    RideStatus.DRIVER_ARRIVED: frozenset({RideStatus.IN_PROGRESS, RideStatus.SEARCHING, RideStatus.CANCELED}),
    RideStatus.IN_PROGRESS: frozenset({RideStatus.COMPLETED}),
    RideStatus.COMPLETED: frozenset({RideStatus.PAYMENT_PENDING}),
    RideStatus.PAYMENT_PENDING: frozenset({RideStatus.PAID}),
    RideStatus.PAID: frozenset(),
    RideStatus.CANCELED: frozenset(),
    RideStatus.EXPIRED: frozenset(),
}

TERMINAL: frozenset[RideStatus] = frozenset(status for status, exits in TRANSITIONS.items() if not exits)

# The ride column each state stamps with the time it was entered. SEARCHING and OFFERED repeat per
# batch and live in ride_offers; REQUESTED is created_at; DRIVER_ARRIVING follows acceptance at once.
_TIMESTAMPS: Mapping[RideStatus, str] = {
    RideStatus.ACCEPTED: "accepted_at",
    RideStatus.DRIVER_ARRIVED: "arrived_at",
    RideStatus.IN_PROGRESS: "started_at",
    RideStatus.COMPLETED: "completed_at",
    RideStatus.PAID: "paid_at",
    RideStatus.CANCELED: "canceled_at",
    RideStatus.EXPIRED: "expired_at",
}


def can_transition(current: RideStatus, target: RideStatus) -> bool:
    """Whether a ride in `current` may move to `target`; staying in the same state is not a transition."""
    return target in TRANSITIONS[RideStatus(current)]


def ensure_transition(current: RideStatus, target: RideStatus) -> None:
    """Raise InvalidStateTransition (409) naming the current state unless the move is allowed."""
    if not can_transition(current, target):
        raise InvalidStateTransition(
            f"Ride is {RideStatus(current).value} and cannot become {RideStatus(target).value}",
            details={"currentStatus": RideStatus(current).value, "requestedStatus": RideStatus(target).value},
        )


def timestamp_field(status: RideStatus) -> str | None:
    """The ride column to set to now when entering `status`, or None when the state stamps nothing."""
    return _TIMESTAMPS.get(RideStatus(status))
