"""Errors of the card network's routes (spec: the card error codes; the rest as issuer processors name them)."""

from __future__ import annotations

from laura.core.errors import Conflict, NotFound, Unauthorized, ValidationFailed


class InvalidApiKey(Unauthorized):
    error = "INVALID_API_KEY"
    code = "CNW_001"
    message = "A valid X-Api-Key is required"


class CardNotFound(NotFound):
    """No card has this number: nothing is recorded (a card transaction belongs to a card)."""

    error = "CARD_NOT_FOUND"
    code = "CNW_002"
    message = "Cartão não encontrado"


class AuthorizationNotFound(NotFound):
    error = "AUTHORIZATION_NOT_FOUND"
    code = "CNW_003"
    message = "Autorização não encontrada"


class InvalidAuthorizationState(Conflict):
    """The authorization's status does not allow this (e.g. capturing a voided one); details name it."""

    error = "INVALID_AUTHORIZATION_STATE"
    code = "CNW_004"
    message = "A autorização não está em um estado que permita esta operação"


class AuthorizationExpired(Conflict):
    """The ledger's hold expiry released the authorization before it was captured."""

    error = "AUTHORIZATION_EXPIRED"
    code = "CNW_005"
    message = "A autorização expirou e o valor foi liberado"


class AmountExceeded(ValidationFailed):
    """A capture above the authorized amount, or refunds above the captured one."""

    error = "AMOUNT_EXCEEDED"
    code = "CNW_006"
    message = "O valor excede o disponível para esta operação"


class AlreadyCaptured(Conflict):
    """A second capture of another amount: a capture happens once (its retry with the same amount replays)."""

    error = "ALREADY_CAPTURED"
    code = "CNW_007"
    message = "A autorização já foi capturada com outro valor"
