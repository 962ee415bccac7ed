"""The ride payments' refusals."""

from __future__ import annotations

from laura.core.errors import AppError


class PaymentNotFound(AppError):
    """No payment for the ride yet, or a ride the caller has no part in (404, never 403)."""

    error = "PAYMENT_NOT_FOUND"
    status = 404
    code = "PAY_001"
    message = "Payment not found"


class RideNotPayable(AppError):
    """Only a completed ride awaiting its payment can be asked to pay (again)."""

    error = "RIDE_NOT_PAYABLE"
    status = 409
    code = "PAY_002"
    message = "The ride is not awaiting payment"


class RefundNotFound(AppError):
    error = "REFUND_NOT_FOUND"
    status = 404
    code = "PAY_003"
    message = "Refund not found"


class RefundAlreadyResolved(AppError):
    """A refund owed is closed once: the payer was refunded."""

    error = "REFUND_ALREADY_RESOLVED"
    status = 409
    code = "PAY_004"
    message = "The refund was already resolved"


class IntentNotPayable(AppError):
    """Only a PENDING intent whose Pix charge is live can be paid (a paid, expired or failed one: ask for a
    new one with POST /payments/intent)."""

    error = "PAYMENT_NOT_PAYABLE"
    status = 409
    code = "PAY_005"
    message = "The payment is not awaiting a Pix"
