"""Paying a ride's charge (a fare or a cancellation fee) from the passenger's Laura bank account.

The two products meet on one ledger: the passenger's account pays the intent's live Pix charge as an
internal Pix (`laura.pix.internal`), the bank debiting it towards PIX_A_RECEBER, and the Pix is applied
through the same exactly-once path as a webhook's, so `mobility_ride_paid` / `mobility_cancellation_fee_paid`
stay the only code that splits the money: D customer / C 1300, then D 1300 / C 4100 and the split, the
intent CONFIRMED, the ride PAID, `payment.confirmed`, in the request's one transaction.

Nothing is locked here before the charge: the internal Pix takes the charge's lock first and then, through
the purpose's effect, the intent's and the ride's, in the order a webhook takes them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from laura.identity.service import Principal
from laura.mobility.payments.charging import CHARGES, FEE_PURPOSE, PURPOSE
from laura.mobility.payments.errors import IntentNotPayable, PaymentNotFound
from laura.mobility.payments.models import IntentPurpose, IntentStatus
from laura.mobility.payments.repository import PaymentRepository
from laura.mobility.payments.service import PaymentView
from laura.pix.internal import pay_from_account as pay_internally
from laura.pix.internal import register_receivable

RECEIVABLE = "1300"
"""PIX_A_RECEBER: where a ride charge's effect books the Pix from, so the account's debit settles it."""


async def pay_from_account(
    session: AsyncSession, *, user: Principal, intent_id: uuid.UUID, now: datetime
) -> PaymentView:
    """Pay the caller's PENDING intent from their bank account, at once; 404 for anyone else's intent, 409
    when it awaits no Pix, and the bank's refusals (no account 404, blocked 403, short balance 402)."""
    repository = PaymentRepository(session)
    intent = await repository.intent(intent_id)
    if intent is None or intent.payer_id != user.id:
        raise PaymentNotFound()
    if intent.status != IntentStatus.PENDING or intent.txid is None:
        raise IntentNotPayable(details={"status": intent.status})
    _, description = CHARGES[IntentPurpose(intent.purpose)]
    charge = await pay_internally(
        session, txid=intent.txid, payer_id=user.id, description=description, now=now
    )
    paid = await repository.intent(intent_id, for_update=True)
    assert paid is not None, "the intent was just read"
    return PaymentView(paid, charge)


register_receivable(PURPOSE, RECEIVABLE)
register_receivable(FEE_PURPOSE, RECEIVABLE)
