"""The rides feature's errors, answered in the platform's one JSON error shape."""

from __future__ import annotations

from laura.core.errors import AppError


class InvalidStateTransition(AppError):
    """The ride is not in a state that allows the requested step (e.g. accepting a ride already taken)."""

    error = "INVALID_STATE_TRANSITION"
    status = 409
    code = "RIDE_001"
    message = "The ride cannot change to the requested state"
