"""The rides feature's errors, answered in the platform's one JSON error shape."""

from __future__ import annotations

from laura.core.errors import AppError


class InvalidStateTransition(AppError):
    """The ride is not in a state that allows the requested step (e.g. accepting a ride already taken)."""

    error = "INVALID_STATE_TRANSITION"
    status = 409
    code = "RIDE_001"
    message = "The ride cannot change to the requested state"


class RideNotFound(AppError):
    """Unknown ride, or one the caller has no part in (another user's ride is 404, never 403)."""

    error = "RIDE_NOT_FOUND"
    status = 404
    code = "RIDE_002"
    message = "Ride not found"


class RideAlreadyAccepted(AppError):
    """Another driver won the ride (or is committing it right now)."""

    error = "RIDE_ALREADY_ACCEPTED"
    status = 409
    code = "RIDE_003"
    message = "Another driver has already accepted this ride"


class OfferNotActive(AppError):
    """The caller's offer for this ride expired or was answered already."""

    error = "OFFER_EXPIRED"
    status = 409
    code = "RIDE_004"
    message = "Your offer for this ride is no longer open"


class ActiveRideExists(AppError):
    error = "ACTIVE_RIDE_EXISTS"
    status = 409
    code = "RIDE_005"
    message = "You already have a ride in progress"


class AlreadyRated(AppError):
    error = "RIDE_ALREADY_RATED"
    status = 409
    code = "RIDE_006"
    message = "You already rated this ride"


class DriverBusy(AppError):
    error = "DRIVER_BUSY"
    status = 409
    code = "RIDE_007"
    message = "You are already on another ride"


class ConcurrentRideUpdate(AppError):
    """The ride's `version` moved under us (optimistic locking): re-read it and retry."""

    error = "CONCURRENT_UPDATE"
    status = 409
    code = "RIDE_008"
    message = "The ride changed while this request was handled; retry"


class RideNotCompleted(AppError):
    error = "RIDE_NOT_COMPLETED"
    status = 409
    code = "RIDE_009"
    message = "Only a completed ride can be rated"
