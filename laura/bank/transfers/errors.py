"""Errors of transfers (spec: error tables of the transfers module)."""

from __future__ import annotations

from laura.core.errors import AppError, Conflict, NotFound, ValidationFailed


class TransferLimitExceeded(AppError):
    error = "TRANSFER_LIMIT_EXCEEDED"
    status = 402
    code = "TRF_003"
    message = "Limite de transferência excedido"


class RecipientNotFound(NotFound):
    error = "USER_NOT_FOUND"
    code = "TRF_004"
    message = "Usuário não encontrado"


class SelfTransfer(ValidationFailed):
    error = "SELF_TRANSFER"
    code = "TRF_005"
    message = "Não é possível transferir para a própria conta"


class TransferNotFound(NotFound):
    error = "TRANSFER_NOT_FOUND"
    code = "TRF_006"
    message = "Transferência não encontrada"


class TransferNotCancellable(Conflict):
    error = "TRANSFER_NOT_CANCELLABLE"
    code = "TRF_007"
    message = "Só transferências agendadas ou pendentes ainda não enviadas podem ser canceladas"


class DynamicBrCodeUnsupported(AppError):
    """A dynamic BR Code names a location whose payload must be fetched; our PSP client cannot fetch it."""

    error = "DYNAMIC_BR_CODE_UNSUPPORTED"
    status = 422
    code = "TRF_008"
    message = "QR Code dinâmico não suportado: use a chave Pix ou um QR Code estático"


class BrCodeAmountMismatch(AppError):
    error = "AMOUNT_MISMATCH"
    status = 422
    code = "TRF_009"
    message = "O valor informado difere do valor do QR Code"


class BankNotFound(AppError):
    """The COMPE code names no participant of the Brazilian payment system."""

    error = "BANK_NOT_FOUND"
    status = 422
    code = "TRF_010"
    message = "Banco não encontrado"
