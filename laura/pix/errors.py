"""Errors of the pure Pix modules: keys and BR Code payloads."""

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
