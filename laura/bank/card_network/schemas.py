"""Wire shapes of the card network's routes: what the acquirer sends and what the issuer answers."""

from __future__ import annotations

import uuid

from pydantic import Field, field_validator

from laura.core.money import Amount, Money
from laura.core.schemas import ApiModel, RequestModel


class Merchant(RequestModel):
    name: str = Field(min_length=1, max_length=255)
    mcc: str = Field(pattern=r"^\d{4}$")
    city: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class Purchase(RequestModel):
    """What the network asks about, the card aside."""

    expiry: str = Field(pattern=r"^(0[1-9]|1[0-2])/\d{2}$")
    cvv: str | None = Field(default=None, pattern=r"^\d{3,4}$", repr=False)
    amount: Amount
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    merchant: Merchant
    idempotency_key: str = Field(min_length=1, max_length=255)


class AuthorizationRequest(Purchase):
    card_number: str = Field(repr=False)
    """Digits, spaces allowed ("4532 1111 1111 4321"); never logged, never stored (only its keyed MAC)."""

    @field_validator("card_number")
    @classmethod
    def _digits(cls, value: str) -> str:
        digits = value.replace(" ", "")
        if not digits.isdigit() or not 12 <= len(digits) <= 19:
            raise ValueError("must be 12 to 19 digits")
        return digits


class AuthorizationOut(ApiModel):
    authorization_id: uuid.UUID
    approved: bool
    decline_code: str | None = None
    amount: Money


class CaptureRequest(RequestModel):
    amount: Amount | None = None
    """Omitted: the whole authorized amount; less releases the rest of the hold."""


class RefundRequest(RequestModel):
    amount: Amount
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=255)
    """The refund's own key: a retry with it refunds once. Without one every call is a new refund."""


class CardTransactionOut(ApiModel):
    """An authorization after capture, void or refund."""

    authorization_id: uuid.UUID
    status: str
    amount: Money
    captured_amount: Money
    refunded_amount: Money
