"""A ride's charge closed unpaid takes its intent with it: the `mobility.ride` purpose's close hook.

The janitor (`pix.reconcile`) closes a charge the PSP no longer accepts payment for (expired, orphaned
after a PSP restart, removed at the PSP). If the charge's intent still waits for it, the intent becomes
EXPIRED in the same transaction and the passenger is told (`payment.intent.expired`); the ride stays
PAYMENT_PENDING, and `POST /payments/intent` then makes a new intent and charge. An intent that moved on
(CONFIRMED by another charge, already replaced) is left alone.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.events import publish
from laura.mobility.payments.models import IntentStatus
from laura.mobility.payments.repository import PaymentRepository
from laura.mobility.rides.repository import RideRepository
from laura.pix.models import PixCharge


async def expire_with_charge(session: AsyncSession, charge: PixCharge) -> None:
    """Run under the charge's row lock; takes the ride's, then the intent's, as every intent writer does."""
    repository = PaymentRepository(session)
    found = await repository.intent(uuid.UUID(charge.entity_id))
    if found is None:
        return
    await RideRepository(session).lock(found.ride_id)
    intent = await repository.intent(found.id, for_update=True)
    if intent is None or intent.status != IntentStatus.PENDING or intent.txid != charge.txid:
        return
    intent.status = IntentStatus.EXPIRED
    await session.flush()
    await publish(
        session,
        "payment.intent.expired",
        {"rideId": str(intent.ride_id), "intentId": str(intent.id), "txid": charge.txid},
        user_ids=[intent.payer_id],
    )
