"""Paying for a ride: the fare is asked for as the ride completes, charged by Pix, and split once paid.

- Completion (`ask_for_fare`, a rides completion hook) writes a PENDING intent, with the commission fixed
  then, and defers the job that creates its charge: the PSP call never runs in the request's transaction.
- The job (`charge_intent`) creates the charge (PSP first, then our row), moves the ride to
  PAYMENT_PENDING and tells the passenger (`payment.intent.created`, with the QR Code).
- The paid charge's effect is SQL (`mobility_ride_paid`, sql/ride_paid.sql), applied by the Pix intake
  exactly once: the ledger postings, the intent CONFIRMED, the ride PAID and `payment.confirmed`.
- `request_payment` (POST /payments/intent) gives a ride whose charge expired, or was never created, a
  live one; with one live already it answers that one.
Writers lock the ride first, then its intent, so the job and the route serialize per ride.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.events import publish
from laura.core.jobs import defer
from laura.core.money import to_cents
from laura.identity.service import Principal
from laura.ledger import service as ledger
from laura.mobility.payments.commission import commission_cents, commission_percent
from laura.mobility.payments.errors import PaymentNotFound, RideNotPayable
from laura.mobility.payments.metrics import count_confirmed
from laura.mobility.payments.models import IntentStatus, PaymentIntent
from laura.mobility.payments.repository import PaymentRepository
from laura.mobility.people.models import Driver
from laura.mobility.people.repository import PeopleRepository
from laura.mobility.rides.errors import RideNotFound
from laura.mobility.rides.hooks import on_ride_completed
from laura.mobility.rides.lifecycle import passenger_user, transition
from laura.mobility.rides.models import Ride
from laura.mobility.rides.repository import RideRepository
from laura.mobility.rides.states import RideStatus
from laura.pix.models import PixCharge
from laura.pix.psp import EfiClient
from laura.pix.service import create_charge, register_paid_hook
from laura.settings import get_settings

PURPOSE = "mobility.ride"
CHARGE_TASK = "mobility.payments.create_charge"


@dataclass(frozen=True)
class PaymentView:
    intent: PaymentIntent
    charge: PixCharge | None

    def wire(self) -> dict:
        charge = self.charge
        return {
            "id": self.intent.id,
            "ride_id": self.intent.ride_id,
            "status": self.intent.status,
            "amount": self.intent.amount,
            "expires_at": self.intent.expires_at,
            "created_at": self.intent.created_at,
            "confirmed_at": self.intent.confirmed_at,
            "txid": self.intent.txid,
            "charge_status": charge.status if charge else None,
            "qr_code": charge.qr_code if charge else None,
            "pix_copia_e_cola": charge.pix_copia_e_cola if charge else None,
            "e2e_id": charge.e2e_id if charge else None,
        }


def driver_payable_code(driver_id: uuid.UUID) -> str:
    """The ledger account of what the platform owes a driver, '2100.<driver id>' (mobility_driver_payable_code)."""
    return f"2100.{driver_id}"


async def _new_intent(
    session: AsyncSession, ride: Ride, driver_id: uuid.UUID, now: datetime
) -> PaymentIntent:
    settings = get_settings()
    assert ride.final_fare is not None, "a completed ride has its final fare"
    amount_cents = to_cents(ride.final_fare)
    return await PaymentRepository(session).add(
        PaymentIntent(
            ride_id=ride.id,
            payer_id=await passenger_user(session, ride),
            driver_id=driver_id,
            amount_cents=amount_cents,
            commission_cents=commission_cents(amount_cents, commission_percent(settings, ride.category)),
            status=IntentStatus.PENDING,
            expires_at=now + timedelta(seconds=settings.ride_payment_expires_seconds),
        )
    )


@on_ride_completed
async def ask_for_fare(session: AsyncSession, ride: Ride, driver: Driver, now: datetime) -> None:
    """In the completing transaction: the driver's payable account, the PENDING intent and its charge job."""
    await ledger.open_account(
        session,
        code=driver_payable_code(driver.id),
        name=f"Motorista a pagar {driver.id}",
        type=ledger.AccountType.LIABILITY,
        owner_id=driver.user_id,
        debits_must_not_exceed_credits=True,
    )
    intent = await _new_intent(session, ride, driver.id, now)
    await defer(session, CHARGE_TASK, args={"intent_id": str(intent.id)})


async def _charge(
    session: AsyncSession, psp: EfiClient, ride: Ride, intent: PaymentIntent, *, now: datetime, pix_key: str
) -> PixCharge:
    """The intent's Pix charge at the PSP and in our books; the ride now waits for it, and the passenger
    is shown the QR Code."""
    charge = await create_charge(
        session,
        psp,
        purpose=PURPOSE,
        entity_id=str(intent.id),
        owner_id=intent.payer_id,
        amount=intent.amount,
        expires_in=max(1, int((intent.expires_at - now).total_seconds())),
        description="Corrida Laura",
        pix_key=pix_key,
    )
    intent.txid = charge.txid
    await session.flush()
    if ride.status == RideStatus.COMPLETED.value:
        await transition(session, ride, RideStatus.PAYMENT_PENDING, now=now, actor_id=None)
    await publish(
        session,
        "payment.intent.created",
        {
            "rideId": str(ride.id),
            "intentId": str(intent.id),
            "amount": str(intent.amount),
            "qrCode": charge.qr_code,
            "pixCopiaECola": charge.pix_copia_e_cola,
            "expiresAt": intent.expires_at.isoformat(),
        },
        user_ids=[intent.payer_id],
    )
    return charge


async def charge_intent(
    session: AsyncSession, psp: EfiClient, *, intent_id: uuid.UUID, now: datetime, pix_key: str
) -> str:
    """The job's body: charge a PENDING intent that has no charge yet (anything else is left alone)."""
    repository = PaymentRepository(session)
    found = await repository.intent(intent_id)
    if found is None:
        return "missing"
    ride = await RideRepository(session).lock(found.ride_id)
    intent = await repository.intent(intent_id, for_update=True)
    if ride is None or intent is None or intent.status != IntentStatus.PENDING or intent.txid is not None:
        return "skipped"
    if intent.expires_at <= now:
        intent.status = IntentStatus.EXPIRED
        return "expired"
    await _charge(session, psp, ride, intent, now=now, pix_key=pix_key)
    return "charged"


async def request_payment(
    session: AsyncSession, psp: EfiClient, *, user: Principal, ride_id: uuid.UUID, now: datetime, pix_key: str
) -> tuple[PaymentView, bool]:
    """The ride's live charge, created if it has none (expired, failed or not yet made); True if new."""
    passenger = await PeopleRepository(session).passenger_by_user(user.id)
    ride = await RideRepository(session).lock(ride_id)
    if ride is None or passenger is None or ride.passenger_id != passenger.id:
        raise RideNotFound()
    if ride.status not in (RideStatus.COMPLETED.value, RideStatus.PAYMENT_PENDING.value):
        raise RideNotPayable(details={"status": ride.status})
    repository = PaymentRepository(session)
    intent = await repository.pending(ride.id)
    if intent is not None and intent.expires_at <= now:
        intent.status = IntentStatus.EXPIRED
        await session.flush()
        intent = None
    if intent is not None and intent.txid is not None:
        return PaymentView(intent, await repository.charge(intent.txid)), False
    if intent is None:
        assert ride.driver_id is not None, "a completed ride has its driver"
        intent = await _new_intent(session, ride, ride.driver_id, now)
    return PaymentView(intent, await _charge(session, psp, ride, intent, now=now, pix_key=pix_key)), True


async def ride_payment(session: AsyncSession, *, user: Principal, ride_id: uuid.UUID) -> PaymentView:
    """The ride's newest intent with its charge, for its passenger, its driver and admins; 404 else."""
    ride = await RideRepository(session).get(ride_id)
    if ride is None:
        raise RideNotFound()
    if user.role != "admin":
        people = PeopleRepository(session)
        passenger = await people.passenger_by_user(user.id)
        driver = await people.driver_by_user(user.id)
        mine = passenger is not None and passenger.id == ride.passenger_id
        driving = driver is not None and driver.id == ride.driver_id
        if not (mine or driving):
            raise RideNotFound()
    repository = PaymentRepository(session)
    intent = await repository.latest(ride.id)
    if intent is None:
        raise PaymentNotFound()
    return PaymentView(intent, await repository.charge(intent.txid))


register_paid_hook(PURPOSE, count_confirmed)
