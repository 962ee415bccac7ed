"""Charging an intent at the PSP with no row lock, and no transaction, held while the PSP answers.

Three steps, the middle one outside any transaction:

1. An order (`ChargeOrder`), decided by the caller in a short transaction under the ride's row lock: the
   intent needs a charge, and what the PSP is asked for is fixed by the intent alone (the txid is the
   intent's id, the lifetime the intent's), so every caller charging the same intent sends the same PUT.
2. `ask_psp`: `PUT /v2/cob/{txid}`. The PSP answers a repeated identical PUT with the charge it already
   has, so a retried job, concurrent `POST /payments/intent`s, or both at once, make one charge.
3. `record`, a second short transaction with the ride locked again, re-checks: a charge another caller
   recorded in between is read, not stored twice; a PENDING intent gets its charge (its expiry becomes
   the charge's), the ride moves to PAYMENT_PENDING and the passenger is shown the QR Code. A charge whose
   intent stopped waiting meanwhile (expired, failed) is still stored, so our books know every charge the
   PSP holds: the janitor closes it, and a payment of it reaches `mobility_ride_paid` like any other.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.events import publish
from laura.mobility.payments.models import IntentPurpose, IntentStatus, PaymentIntent
from laura.mobility.payments.repository import PaymentRepository
from laura.mobility.rides.lifecycle import transition
from laura.mobility.rides.models import Ride
from laura.mobility.rides.repository import RideRepository
from laura.mobility.rides.states import RideStatus
from laura.pix.models import PixCharge
from laura.pix.psp import Charge, EfiClient
from laura.pix.service import open_charge, record_charge

PURPOSE = "mobility.ride"
FEE_PURPOSE = "mobility.cancellation_fee"
CHARGES = {
    IntentPurpose.RIDE: (PURPOSE, "Corrida Laura"),
    IntentPurpose.CANCELLATION_FEE: (FEE_PURPOSE, "Taxa de cancelamento Laura"),
}
"""An intent's Pix charge purpose (whose SQL effect books it) and the description the payer sees."""


@dataclass(frozen=True, slots=True)
class ChargeOrder:
    """What the PSP is asked for an intent: the same for every caller of the same intent."""

    intent_id: uuid.UUID
    ride_id: uuid.UUID
    txid: str
    purpose: str
    """The charge's purpose: a fare's or a cancellation fee's (`CHARGES`)."""
    description: str
    amount: Decimal
    expires_in: int


def order_for(intent: PaymentIntent) -> ChargeOrder:
    """The charge of `intent`: txid from its id (32 hex digits, within Pix's 26..35 alphanumerics) and its
    whole lifetime, so that a PUT repeated by anyone, at any time, is the same PUT."""
    purpose, description = CHARGES[IntentPurpose(intent.purpose)]
    return ChargeOrder(
        intent_id=intent.id,
        ride_id=intent.ride_id,
        txid=intent.id.hex,
        purpose=purpose,
        description=description,
        amount=intent.amount,
        expires_in=max(1, int((intent.expires_at - intent.created_at).total_seconds())),
    )


async def ask_psp(psp: EfiClient, order: ChargeOrder, *, pix_key: str) -> Charge:
    """The PSP's charge for the order; called with no transaction open (PspError / PspUnavailable raise)."""
    return await open_charge(
        psp,
        txid=order.txid,
        amount=order.amount,
        expires_in=order.expires_in,
        description=order.description,
        pix_key=pix_key,
    )


async def record(
    session: AsyncSession, order: ChargeOrder, remote: Charge, *, now: datetime
) -> tuple[PaymentIntent, PixCharge | None, bool]:
    """Store the PSP's charge and, if its intent still waits for one, link it and show it (step 3); True
    when this call linked it (a concurrent caller that got there first leaves False)."""
    ride = await RideRepository(session).lock(order.ride_id)
    repository = PaymentRepository(session)
    intent = await repository.intent(order.intent_id, for_update=True)
    assert ride is not None and intent is not None, "intents and rides are never deleted"
    if intent.txid is not None:
        return intent, await repository.charge(intent.txid), False
    charge = await record_charge(
        session,
        remote,
        purpose=order.purpose,
        entity_id=str(intent.id),
        owner_id=intent.payer_id,
        description=order.description,
    )
    if intent.status != IntentStatus.PENDING:
        return intent, None, False
    intent.txid = charge.txid
    intent.expires_at = charge.expires_at
    await session.flush()
    await _show(session, ride, intent, charge, now=now)
    return intent, charge, True


async def _show(
    session: AsyncSession, ride: Ride, intent: PaymentIntent, charge: PixCharge, *, now: datetime
) -> None:
    """A completed ride now waits for the charge (a canceled one, charged its fee, stays CANCELED), and the
    passenger is shown its QR Code."""
    if ride.status == RideStatus.COMPLETED.value:
        await transition(session, ride, RideStatus.PAYMENT_PENDING, now=now, actor_id=None)
    await publish(
        session,
        "payment.intent.created",
        {
            "rideId": str(ride.id),
            "intentId": str(intent.id),
            "purpose": intent.purpose,
            "amount": str(intent.amount),
            "qrCode": charge.qr_code,
            "pixCopiaECola": charge.pix_copia_e_cola,
            "expiresAt": intent.expires_at.isoformat(),
        },
        user_ids=[intent.payer_id],
    )
