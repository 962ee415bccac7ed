"""The anti-fraud rules' refusals and the review's errors."""

from __future__ import annotations

from laura.core.errors import AppError


class OutsideServiceArea(AppError):
    error = "OUTSIDE_SERVICE_AREA"
    status = 422
    code = "FRAUD_001"
    message = "Pickup and dropoff must be inside the service area"


class ImpossibleMovement(AppError):
    """A report implying a speed no car reaches: a spoofed GPS, not a driver."""

    error = "IMPOSSIBLE_MOVEMENT"
    status = 422
    code = "FRAUD_002"
    message = "The reported position is too far from the last one for the time between them"
    commit_work = True  # the refusal is counted (and may flag the driver); the position is never stored


class AccountSuspended(AppError):
    error = "ACCOUNT_SUSPENDED"
    status = 403
    code = "FRAUD_003"
    message = "Your account is suspended from rides until our team reviews it"


class FlagNotFound(AppError):
    error = "FRAUD_FLAG_NOT_FOUND"
    status = 404
    code = "FRAUD_004"
    message = "Fraud flag not found"


class FlagAlreadyResolved(AppError):
    error = "FRAUD_FLAG_ALREADY_RESOLVED"
    status = 409
    code = "FRAUD_005"
    message = "The flag is already resolved"
