"""Wire shapes of transfers (spec section 1): requests, and one answer shape per kind of transfer."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AliasChoices, AwareDatetime, Field, field_validator, model_validator

from laura.bank.spending.categories import SpendingCategory
from laura.core.documents import normalize_cnpj, normalize_cpf
from laura.core.money import Amount, Money
from laura.core.schemas import ApiModel, RequestModel, UtcDatetime


class P2PRequest(RequestModel):
    recipient_user_id: uuid.UUID
    amount: Amount
    description: str | None = Field(default=None, max_length=140)


class CategoryRequest(RequestModel):
    """Tag a transfer with the spending category it counts in; null puts it back in TRANSFERS."""

    category: SpendingCategory | None


class CancelRequest(RequestModel):
    reason: str | None = Field(default=None, max_length=500)


class P2POut(ApiModel):
    id: uuid.UUID
    type: str
    amount: Money
    status: str
    recipient_user_id: uuid.UUID
    description: str | None
    created_at: UtcDatetime
    transferred_at: UtcDatetime | None = Field(
        validation_alias=AliasChoices("transferred_at", "completed_at")
    )


class TransferOut(ApiModel):
    """One transfer of any kind, as lists and the detail show it."""

    id: uuid.UUID
    type: str
    amount: Money
    fee: Money
    status: str
    description: str | None
    pix_key: str | None
    recipient_user_id: uuid.UUID | None
    recipient_name: str | None
    bank: str | None = Field(validation_alias=AliasChoices("bank", "bank_code"))
    agency: str | None
    account: str | None
    account_type: str | None
    e2e_id: str | None = Field(alias="e2eId")
    scheduled_for: UtcDatetime | None
    estimated_delivery: UtcDatetime | None
    created_at: UtcDatetime
    completed_at: UtcDatetime | None
    cancelled_at: UtcDatetime | None
    failure_reason: str | None
    category: SpendingCategory = Field(
        validation_alias=AliasChoices("spending_category", "category"),
        description="The spending category it counts in: TRANSFERS unless the customer tagged another.",
    )


class CancelOut(ApiModel):
    id: uuid.UUID
    status: str
    cancelled_at: UtcDatetime
    reason: str | None = Field(validation_alias=AliasChoices("reason", "cancel_reason"))


class PixRequest(RequestModel):
    """Pay a Pix key (with `amount`) or a static BR Code (`brCode`: key and, if it has one, amount from it)."""

    pix_key: str | None = Field(default=None, max_length=100)
    br_code: str | None = Field(default=None, max_length=512)
    amount: Amount | None = None
    description: str | None = Field(default=None, max_length=140)
    scheduled_for: AwareDatetime | None = Field(
        default=None, description="Send later: at most `LAURA_SCHEDULE_MAX_DAYS` (366) days ahead."
    )

    @model_validator(mode="after")
    def _one_target(self) -> PixRequest:
        if (self.pix_key is None) == (self.br_code is None):
            raise ValueError("send exactly one of pixKey and brCode")
        if self.pix_key is not None and self.amount is None:
            raise ValueError("amount is required with pixKey")
        return self


class PixOut(ApiModel):
    id: uuid.UUID
    type: str
    amount: Money
    status: str
    pix_key: str | None
    description: str | None
    e2e_id: str | None = Field(alias="e2eId")
    scheduled_for: UtcDatetime | None
    created_at: UtcDatetime
    completed_at: UtcDatetime | None
    failure_reason: str | None


class PixPreviewOut(ApiModel):
    """Who a Pix would pay, before it is sent: the owner and bank of a key of ours; for another
    institution's key, only what its BR Code declares (`recipientName` from the code, `institution` null)."""

    pix_key: str = Field(validation_alias=AliasChoices("pix_key", "key"))
    key_type: str
    amount: Money
    recipient_name: str | None
    institution: str | None
    city: str | None
    description: str | None


class TedRequest(RequestModel):
    """A TED to another bank: COMPE code, agency (4 digits, optional check digit), account with its digit."""

    bank: str = Field(pattern=r"^[0-9]{3}$")
    agency: str = Field(pattern=r"^[0-9]{4}(-?[0-9])?$")
    account: str = Field(pattern=r"^[0-9]{1,12}-?[0-9Xx]$")
    account_type: Literal["CHECKING", "SAVINGS", "PAYMENT"]
    amount: Amount
    description: str | None = Field(default=None, max_length=140)
    recipient_name: str = Field(min_length=1, max_length=255)
    recipient_document: str | None = Field(default=None, max_length=18)

    @field_validator("recipient_document")
    @classmethod
    def _document(cls, value: str | None) -> str | None:
        if value is None:
            return None
        normalized = normalize_cpf(value) or normalize_cnpj(value)
        if normalized is None:
            raise ValueError("not a valid CPF or CNPJ")
        return normalized


class TedOut(ApiModel):
    id: uuid.UUID
    type: str
    amount: Money
    status: str
    bank: str = Field(validation_alias=AliasChoices("bank", "bank_code"))
    fee: Money
    estimated_delivery: UtcDatetime
