"""Errors of cards (spec: the cards module's error table; where it is silent, named after what went wrong)."""

from __future__ import annotations

from laura.core.errors import AppError, Conflict, NotFound, ValidationFailed


class CardNotFound(NotFound):
    """No such card, or another customer's: the same answer, so ids reveal nothing."""

    error = "CARD_NOT_FOUND"
    code = "CRD_001"
    message = "Cartão não encontrado"


class CardPermanentlyBlocked(Conflict):
    """LOST, STOLEN and CANCELLED are final: such a card is never unblocked nor blocked again."""

    error = "CARD_PERMANENTLY_BLOCKED"
    code = "CRD_002"
    message = "Cartão cancelado ou bloqueado definitivamente (perda ou roubo)"


class CardNotCancellable(Conflict):
    """Only a virtual card is cancelled by its customer; a physical one is blocked, or reported lost or stolen."""

    error = "CARD_NOT_CANCELLABLE"
    code = "CRD_003"
    message = "Só cartões virtuais podem ser cancelados; bloqueie o cartão físico ou comunique perda ou roubo"


class VirtualCardLimitReached(AppError):
    error = "VIRTUAL_CARD_LIMIT_REACHED"
    status = 422
    code = "CRD_004"
    message = "Limite de cartões virtuais ativos atingido"


class InvalidCardExpiry(ValidationFailed):
    """`expiresAt` is past, or later than the physical card's expiry (a virtual card lives inside it)."""

    error = "INVALID_EXPIRY_DATE"
    code = "CRD_005"
    message = "A validade deve ser futura e não pode passar da validade do cartão físico"


class PhysicalCardRequired(AppError):
    """A virtual card hangs off the account's physical card (its expiry bounds the virtual one's)."""

    error = "PHYSICAL_CARD_REQUIRED"
    status = 422
    code = "CRD_006"
    message = "A conta não tem cartão físico ativo"
