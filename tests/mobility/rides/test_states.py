import itertools

import pytest

from laura.core.errors import AppError
from laura.mobility.rides.errors import InvalidStateTransition
from laura.mobility.rides.states import (
    TERMINAL,
    TRANSITIONS,
    RideStatus,
    can_transition,
    ensure_transition,
    timestamp_field,
)

S = RideStatus

ALLOWED = {
    (S.REQUESTED, S.SEARCHING),
    (S.REQUESTED, S.CANCELED),
    (S.SEARCHING, S.OFFERED),
    (S.SEARCHING, S.CANCELED),
    (S.SEARCHING, S.EXPIRED),
    (S.OFFERED, S.ACCEPTED),
    (S.OFFERED, S.SEARCHING),  # batch expired or everyone declined
    (S.OFFERED, S.CANCELED),
    (S.OFFERED, S.EXPIRED),
    (S.ACCEPTED, S.DRIVER_ARRIVING),
    (S.ACCEPTED, S.SEARCHING),  # driver cancels
    (S.ACCEPTED, S.CANCELED),
    (S.DRIVER_ARRIVING, S.DRIVER_ARRIVED),
    (S.DRIVER_ARRIVING, S.SEARCHING),
    (S.DRIVER_ARRIVING, S.CANCELED),
    (S.DRIVER_ARRIVED, S.IN_PROGRESS),
    (S.DRIVER_ARRIVED, S.SEARCHING),
    (S.DRIVER_ARRIVED, S.CANCELED),
    (S.IN_PROGRESS, S.COMPLETED),
    (S.COMPLETED, S.PAYMENT_PENDING),
    (S.PAYMENT_PENDING, S.PAID),
}
ALL_PAIRS = list(itertools.product(RideStatus, repeat=2))


def test_twelve_states_with_one_row_each():
    assert len(RideStatus) == 12
    assert set(TRANSITIONS) == set(RideStatus)
    assert {(a, b) for a, exits in TRANSITIONS.items() for b in exits} == ALLOWED


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_allowed_transitions_pass(current, target):
    assert can_transition(current, target)
    ensure_transition(current, target)


@pytest.mark.parametrize(("current", "target"), [pair for pair in ALL_PAIRS if pair not in ALLOWED])
def test_every_other_pair_is_rejected(current, target):
    assert not can_transition(current, target)
    with pytest.raises(InvalidStateTransition) as raised:
        ensure_transition(current, target)
    assert current.value in raised.value.message


def test_terminal_states_have_no_exits():
    assert TERMINAL == {S.PAID, S.CANCELED, S.EXPIRED}
    for status in TERMINAL:
        assert not any(can_transition(status, target) for target in RideStatus)


def test_every_state_is_reachable_and_every_live_state_can_end():
    reachable, frontier = {S.REQUESTED}, [S.REQUESTED]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(RideStatus)
    for status in set(RideStatus) - TERMINAL:
        assert TRANSITIONS[status], status
    # until the trip starts the passenger can always walk away
    for status in (S.REQUESTED, S.SEARCHING, S.OFFERED, S.ACCEPTED, S.DRIVER_ARRIVING, S.DRIVER_ARRIVED):
        assert can_transition(status, S.CANCELED)
    for status in (S.IN_PROGRESS, S.COMPLETED, S.PAYMENT_PENDING):
        assert not can_transition(status, S.CANCELED)


def test_plain_strings_are_accepted():
    assert can_transition("OFFERED", "ACCEPTED")
    with pytest.raises(ValueError):
        can_transition("FLYING", "ACCEPTED")


def test_error_shape():
    error = InvalidStateTransition("Ride is PAID and cannot become CANCELED")
    assert isinstance(error, AppError)
    assert (error.error, error.status) == ("INVALID_STATE_TRANSITION", 409)
    with pytest.raises(InvalidStateTransition) as raised:
        ensure_transition(S.PAID, S.CANCELED)
    body = raised.value.body("req-1")
    assert body["error"] == "INVALID_STATE_TRANSITION"
    assert body["message"] == "Ride is PAID and cannot become CANCELED"
    assert body["details"] == {"currentStatus": "PAID", "requestedStatus": "CANCELED"}


@pytest.mark.parametrize(
    ("status", "column"),
    [
        (S.REQUESTED, None),
        (S.SEARCHING, None),
        (S.OFFERED, None),
        (S.ACCEPTED, "accepted_at"),
        (S.DRIVER_ARRIVING, None),
        (S.DRIVER_ARRIVED, "arrived_at"),
        (S.IN_PROGRESS, "started_at"),
        (S.COMPLETED, "completed_at"),
        (S.PAYMENT_PENDING, None),
        (S.PAID, "paid_at"),
        (S.CANCELED, "canceled_at"),
        (S.EXPIRED, "expired_at"),
    ],
)
def test_timestamp_field(status, column):
    assert timestamp_field(status) == column
