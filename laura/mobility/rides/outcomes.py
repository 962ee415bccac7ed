"""What `ride_accept` (`sql/accept.sql`) answers: the one vocabulary of the SQL function, its Python caller
and their tests."""

from __future__ import annotations

from enum import StrEnum

from laura.mobility.rides.states import RideStatus


class RideAcceptOutcome(StrEnum):
    """`ride_accept`'s `outcome`."""

    SESSION_ENDED = "SESSION_ENDED"
    NO_DRIVER = "NO_DRIVER"
    NO_RIDE = "NO_RIDE"
    REPLAY = "REPLAY"
    SUSPENDED = "SUSPENDED"
    RATE_LIMITED = "RATE_LIMITED"
    ANSWERED = "ANSWERED"
    """Answered now (answer_status, answer_body): a refusal stored on the attempt, or the ride the driver
    already holds."""
    ACCEPTED = "ACCEPTED"


class AcceptRefusal(StrEnum):
    """The kinds of refusal `ride_accept` answers from its templates (`p_refusals`), besides `invalid`."""

    NOT_OFFERED = "not_offered"
    TAKEN = "taken"
    BUSY = "busy"
    OFFER_CLOSED = "offer_closed"
    DRIVER_BUSY = "driver_busy"


def invalid_refusal(status: RideStatus) -> str:
    """The refusal kind of a ride whose `status` may not become ACCEPTED."""
    return f"invalid:{RideStatus(status).value}"
