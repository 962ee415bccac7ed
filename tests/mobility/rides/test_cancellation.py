from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from laura.mobility.rides.cancellation import (
    CanceledBy,
    CancellationOutcome,
    CancellationRule,
    cancellation_outcome,
)
from laura.mobility.rides.errors import InvalidStateTransition
from laura.mobility.rides.states import RideStatus, can_transition

S = RideStatus
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
FREE = Decimal("0.00")


def passenger(status, accepted_ago=None, **kwargs):
    accepted_at = None if accepted_ago is None else NOW - accepted_ago
    return cancellation_outcome(status, by=CanceledBy.PASSENGER, accepted_at=accepted_at, now=NOW, **kwargs)


@pytest.mark.parametrize("status", [S.REQUESTED, S.SEARCHING, S.OFFERED])
def test_passenger_cancels_free_before_acceptance(status):
    assert passenger(status) == CancellationOutcome(S.CANCELED, FREE, CancellationRule.BEFORE_ACCEPTANCE)


@pytest.mark.parametrize("status", [S.ACCEPTED, S.DRIVER_ARRIVING])
def test_passenger_cancels_free_within_two_minutes_of_acceptance(status):
    for ago in (timedelta(0), timedelta(seconds=90), timedelta(minutes=2)):
        assert passenger(status, ago) == CancellationOutcome(S.CANCELED, FREE, CancellationRule.GRACE_PERIOD)


@pytest.mark.parametrize("status", [S.ACCEPTED, S.DRIVER_ARRIVING])
def test_passenger_pays_after_the_grace_window(status):
    outcome = passenger(status, timedelta(minutes=2, seconds=1))
    assert outcome == CancellationOutcome(S.CANCELED, Decimal("5.00"), CancellationRule.LATE)


def test_passenger_pays_once_the_driver_arrived_even_early():
    outcome = passenger(S.DRIVER_ARRIVED, timedelta(seconds=30))
    assert outcome == CancellationOutcome(S.CANCELED, Decimal("5.00"), CancellationRule.DRIVER_ARRIVED)


def test_fee_and_window_come_from_the_caller():
    generous = {"fee": Decimal("7.50"), "free_window": timedelta(minutes=5)}
    assert passenger(S.ACCEPTED, timedelta(minutes=4), **generous).fee == FREE
    assert passenger(S.ACCEPTED, timedelta(minutes=6), fee=Decimal("7.50")).fee == Decimal("7.50")


def test_accepted_ride_without_acceptance_time_is_a_bug():
    with pytest.raises(ValueError):
        passenger(S.ACCEPTED)


@pytest.mark.parametrize("status", [S.ACCEPTED, S.DRIVER_ARRIVING, S.DRIVER_ARRIVED])
def test_driver_cancel_is_free_and_sends_the_ride_back_to_searching(status):
    outcome = cancellation_outcome(status, by="driver", accepted_at=NOW - timedelta(minutes=9), now=NOW)
    assert outcome == CancellationOutcome(S.SEARCHING, FREE, CancellationRule.DRIVER_CANCELED)


STARTED_OR_OVER = (S.IN_PROGRESS, S.COMPLETED, S.PAYMENT_PENDING, S.PAID, S.CANCELED, S.EXPIRED)
NO_DRIVER_YET = (S.REQUESTED, S.SEARCHING, S.OFFERED)


@pytest.mark.parametrize(
    ("status", "by"),
    [(s, CanceledBy.PASSENGER) for s in STARTED_OR_OVER]
    + [(s, CanceledBy.DRIVER) for s in NO_DRIVER_YET + STARTED_OR_OVER],
)
def test_rides_that_cannot_be_canceled(status, by):
    with pytest.raises(InvalidStateTransition) as raised:
        cancellation_outcome(status, by=by, accepted_at=NOW, now=NOW)
    assert status.value in raised.value.message


def test_every_outcome_is_a_legal_transition():
    for status in RideStatus:
        for by in CanceledBy:
            try:
                outcome = cancellation_outcome(status, by=by, accepted_at=NOW, now=NOW)
            except InvalidStateTransition:
                continue
            assert can_transition(status, outcome.next_status)
