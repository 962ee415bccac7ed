"""Errors of checking accounts."""

from __future__ import annotations

from laura.core.errors import AppError


class AccountNotFound(AppError):
    """The caller (or the named customer) has no checking account."""

    error = "ACCOUNT_NOT_FOUND"
    status = 404
    code = "ACC_001"
    message = "Conta não encontrada"


class AccountNotActive(AppError):
    error = "ACCOUNT_NOT_ACTIVE"
    status = 403
    code = "ACC_002"
    message = "A conta não está ativa"
