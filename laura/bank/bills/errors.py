"""The errors a boleto can answer with."""

from __future__ import annotations

from laura.core.errors import AppError


class InvalidBarcode(AppError):
    """The text is not a boleto line or barcode, or one of its check digits is wrong."""

    error = "INVALID_BARCODE"
    status = 400
    code = "BIL_001"
    message = "Invalid barcode"


class AmountMismatch(AppError):
    """The amount given differs from the amount the boleto encodes."""

    error = "AMOUNT_MISMATCH"
    status = 422
    code = "BIL_002"
    message = "The amount differs from the amount in the barcode"


class BillAlreadyPaid(AppError):
    error = "BILL_ALREADY_PAID"
    status = 409
    code = "BIL_003"
    message = "Este boleto já foi pago"


class BillOverdue(AppError):
    """Past the slip's payment limit: the registered limit, or due date + 59 days for bank slips."""

    error = "BILL_OVERDUE"
    status = 402
    code = "BIL_004"
    message = "Boleto vencido além do prazo de pagamento"


class BillPaymentNotFound(AppError):
    error = "BILL_NOT_FOUND"
    status = 404
    code = "BIL_005"
    message = "Pagamento não encontrado"


class AmountRequired(AppError):
    error = "VALIDATION_ERROR"
    status = 422
    code = "BIL_006"
    message = "Este boleto não traz o valor: informe o valor a pagar"
