"""Who a Pix would pay, before any money moves: the confirmation step of a Pix by key or copia-e-cola.

The key and amount are read exactly as `send_pix_transfer` reads them (`resolve_order`, so a code or key it
would refuse is refused here with the same error). A key in our own directory names its owner and the bank
(the DICT answer, for the keys we hold); a key of another institution is one this platform cannot look up
(its PSP offers no DICT query), so only what a BR Code itself declares (the merchant's name and city) is
shown for it, and the page says the other institution will confirm the name. Nothing is written."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.pix_keys import service as pix_keys
from laura.bank.transfers.errors import SelfTransfer
from laura.bank.transfers.pix import ISPB, resolve_order
from laura.bank.transfers.repository import TransferRepository
from laura.bank.transfers.schemas import PixRequest
from laura.core.money import from_cents
from laura.pix.brcode import parse_brcode

OUR_BANK = "Laura"


@dataclass(frozen=True)
class PixPreview:
    key: str
    key_type: str
    amount: Decimal
    recipient_name: str | None
    """The owner's name for a key of ours; for another institution's, the name its BR Code declares."""
    institution: str | None
    """`OUR_BANK` with its ISPB for a key of ours; None for another institution (not known here)."""
    city: str | None = None
    description: str | None = None


async def preview_pix(session: AsyncSession, *, user_id: uuid.UUID, data: PixRequest) -> PixPreview:
    """The Pix `data` describes, refused as sending it would be (a bad key or code, the sender's own key)."""
    order = resolve_order(data)
    code = parse_brcode(data.br_code) if data.br_code is not None else None
    owner = await pix_keys.key_owner(session, order.key.value)
    if owner == user_id:
        raise SelfTransfer(details=[{"field": "pixKey", "message": "the key is the sender's own"}])
    if owner is not None:
        name = await TransferRepository(session).user_name(owner)
        institution: str | None = f"{OUR_BANK} (ISPB {ISPB})"
    else:
        name, institution = (code.merchant_name if code else None), None
    return PixPreview(
        key=order.key.value,
        key_type=order.key.type.value,
        amount=from_cents(order.amount_cents),
        recipient_name=name,
        institution=institution,
        city=code.merchant_city if code else None,
        description=data.description or (code.description if code else None),
    )
