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
