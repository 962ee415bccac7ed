"""Errors of the Pix keys directory."""

from __future__ import annotations

from laura.core.errors import AppError, Conflict, NotFound, ValidationFailed


class PixKeyInUse(Conflict):
    """The key already points to an account (ours, or the same customer's): one account per key."""

    error = "PIX_KEY_IN_USE"
    code = "PIX_101"
    message = "Esta chave Pix já está registrada"


class PixKeyLimitReached(AppError):
    """DICT allows an individual's account at most five keys."""

    error = "PIX_KEY_LIMIT_REACHED"
    status = 422
    code = "PIX_102"
    message = "A conta já tem o máximo de 5 chaves Pix"


class PixKeyNotOwned(ValidationFailed):
    """A CPF or phone key must be the customer's own document or number."""

    error = "PIX_KEY_NOT_OWNED"
    code = "PIX_103"
    message = "A chave deve ser o CPF ou o telefone do próprio titular"


class PixKeyNotFound(NotFound):
    error = "PIX_KEY_NOT_FOUND"
    code = "PIX_104"
    message = "Chave Pix não encontrada"
