"""The payouts' refusals."""

from __future__ import annotations

from laura.core.errors import AppError


class InsufficientBalance(AppError):
    """More than the driver's available balance (earnings still on hold and pending payouts excluded)."""

    error = "INSUFFICIENT_BALANCE"
    status = 400
    code = "PAYOUT_001"
    message = "The amount is more than your available balance"


class PayoutBelowMinimum(AppError):
    error = "PAYOUT_BELOW_MINIMUM"
    status = 422
    code = "PAYOUT_002"
    message = "The amount is below the minimum payout"


class PayoutLimitExceeded(AppError):
    error = "PAYOUT_LIMIT_EXCEEDED"
    status = 422
    code = "PAYOUT_003"
    message = "The payout would exceed your payout limit"


class PayoutNotFound(AppError):
    """No such payout, or another driver's (404, never 403)."""

    error = "PAYOUT_NOT_FOUND"
    status = 404
    code = "PAYOUT_004"
    message = "Payout not found"
