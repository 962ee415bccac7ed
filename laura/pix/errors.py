"""Errors of Pix: keys and BR Code payloads, charges, and the PSP webhook."""

from __future__ import annotations

from laura.core.errors import AppError


class InvalidPixKey(AppError):
    error = "INVALID_PIX_KEY"
    status = 400
    code = "PIX_001"
    message = "Invalid Pix key"


class InvalidBrCode(AppError):
    error = "INVALID_BR_CODE"
    status = 400
    code = "PIX_002"
    message = "Invalid BR Code"


class ChargeNotFound(AppError):
    error = "PIX_CHARGE_NOT_FOUND"
    status = 404
    code = "PIX_003"
    message = "Pix charge not found"


class ChargeNotActive(AppError):
    error = "PIX_CHARGE_NOT_ACTIVE"
    status = 409
    code = "PIX_004"
    message = "The Pix charge is no longer active"


class WebhookUnauthorized(AppError):
    error = "UNAUTHORIZED"
    status = 401
    code = "PIX_005"
    message = "Webhook sender not authenticated"


class WebhookPayloadInvalid(AppError):
    """The authenticated sender posted something unreadable: kept (for ops, by the statement that stored it,
    which has committed) and refused."""

    error = "INVALID_WEBHOOK_PAYLOAD"
    status = 400
    code = "PIX_006"
    message = "Unreadable Pix notification"
