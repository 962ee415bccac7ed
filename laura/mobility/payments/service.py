"""Paying for a ride: the fare is asked for as the ride completes, charged by Pix, and split once paid.

- Completion (`ask_for_fare`, a rides completion hook) writes a PENDING intent, with the commission fixed
  then, and defers the job that creates its charge: the PSP call never runs in the request's transaction.
- The job (`charge_intent`) creates the charge in three steps (`charging`: decide, ask the PSP with no
  transaction open, record), moves the ride to PAYMENT_PENDING and tells the passenger
  (`payment.intent.created`, with the QR Code). A PSP that refuses, or stays unreachable through the
  job's last attempt, fails the intent (`payment.intent.failed`).
- The paid charge's effect is SQL (`mobility_ride_paid`, sql/ride_paid.sql), applied by the Pix intake
  exactly once: the ledger postings, the intent CONFIRMED, the ride PAID and `payment.confirmed`.
- `request_payment` (POST /payments/intent) gives a ride whose charge expired or failed, or was never
  created, a live one; with one live already it answers that one.
Writers lock the ride first, then its intent, so the job and the route serialize per ride; no lock is
held while the PSP answers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import Database, settings_of
from laura.core.events import publish
from laura.core.jobs import defer
from laura.core.money import to_cents
from laura.identity.service import Caller, Principal, live_principal
from laura.ledger import service as ledger
from laura.mobility.payments.charging import FEE_PURPOSE, PURPOSE, ChargeOrder, ask_psp, order_for, record
from laura.mobility.payments.commission import commission_cents, commission_percent
from laura.mobility.payments.errors import PaymentNotFound, RideNotPayable
from laura.mobility.payments.expiry import expire_with_charge
from laura.mobility.payments.metrics import count_confirmed
from laura.mobility.payments.models import IntentStatus, PaymentIntent
from laura.mobility.payments.repository import PaymentRepository
from laura.mobility.people.models import Driver
from laura.mobility.people.repository import PeopleRepository
from laura.mobility.rides.errors import RideNotFound
from laura.mobility.rides.hooks import on_ride_completed
from laura.mobility.rides.lifecycle import passenger_user
from laura.mobility.rides.models import Ride
from laura.mobility.rides.repository import RideRepository
from laura.mobility.rides.states import RideStatus
from laura.pix.models import PixCharge
from laura.pix.psp import EfiClient, PspError, PspUnavailable
from laura.pix.service import register_close_hook, register_paid_hook

log = structlog.get_logger(__name__)

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
            "purpose": self.intent.purpose,
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
    settings = settings_of(session)
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


async def open_driver_account(session: AsyncSession, driver: Driver) -> None:
    """The driver's payable account, opened before the first money meant for them is asked for."""
    await ledger.open_account(
        session,
        code=driver_payable_code(driver.id),
        name=f"Motorista a pagar {driver.id}",
        type=ledger.AccountType.LIABILITY,
        owner_id=driver.user_id,
        debits_must_not_exceed_credits=True,
    )


@on_ride_completed
async def ask_for_fare(session: AsyncSession, ride: Ride, driver: Driver, now: datetime) -> None:
    """In the completing transaction: the driver's payable account, the PENDING intent and its charge job."""
    await open_driver_account(session, driver)
    intent = await _new_intent(session, ride, driver.id, now)
    await defer(session, CHARGE_TASK, args={"intent_id": str(intent.id)})


async def charge_intent(
    db: Database, psp: EfiClient, *, intent_id: uuid.UUID, now: datetime, pix_key: str, last_attempt: bool
) -> str:
    """The job's body: charge a PENDING intent that has no charge yet (anything else is left alone). The
    PSP is asked outside any transaction (`laura.mobility.payments.charging`); a refusal, or the PSP still
    unreachable on the `last_attempt`, fails the intent instead (`give_up`)."""
    async with db.unit_of_work() as session:
        decided = await _job_order(session, intent_id, now)
    if isinstance(decided, str):
        return decided
    try:
        remote = await ask_psp(psp, decided, pix_key=pix_key)
    except PspUnavailable:
        if not last_attempt:
            raise
        reason = "psp_unavailable"
    except PspError as exc:
        reason = f"psp_refused:{exc.psp_error or exc.psp_status}"
    else:
        async with db.unit_of_work() as session:
            await record(session, decided, remote, now=now)
        return "charged"
    async with db.unit_of_work() as session:
        return await give_up(session, decided, reason=reason)


async def _job_order(session: AsyncSession, intent_id: uuid.UUID, now: datetime) -> ChargeOrder | str:
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
    return order_for(intent)


async def give_up(session: AsyncSession, order: ChargeOrder, *, reason: str) -> str:
    """The PSP will not charge the intent: FAILED (if it still waits for a charge), and the passenger is
    told, so that `POST /payments/intent` asks for a new one."""
    await RideRepository(session).lock(order.ride_id)
    intent = await PaymentRepository(session).intent(order.intent_id, for_update=True)
    if intent is None or intent.status != IntentStatus.PENDING or intent.txid is not None:
        return "skipped"
    intent.status = IntentStatus.FAILED
    await session.flush()
    log.warning(
        "payments.intent.failed", intent_id=str(intent.id), ride_id=str(intent.ride_id), reason=reason
    )
    await publish(
        session,
        "payment.intent.failed",
        {"rideId": str(intent.ride_id), "intentId": str(intent.id), "reason": reason},
        user_ids=[intent.payer_id],
    )
    return "failed"


async def request_payment(
    db: Database, psp: EfiClient, *, caller: Caller, ride_id: uuid.UUID, now: datetime, pix_key: str
) -> tuple[PaymentView, bool]:
    """The ride's live charge, created if it has none (expired, failed or not yet made); True if this call
    recorded the charge. Concurrent calls for one ride agree on one intent and one txid under the ride's lock,
    then each asks the PSP for that same charge with no lock held: one live charge per ride."""
    async with db.unit_of_work() as session:
        user = await live_principal(session, caller)
        decided = await _request_order(session, user=user, ride_id=ride_id, now=now)
    if isinstance(decided, PaymentView):
        return decided, False
    remote = await ask_psp(psp, decided, pix_key=pix_key)
    async with db.unit_of_work() as session:
        intent, charge, created = await record(session, decided, remote, now=now)
    return PaymentView(intent, charge), created


async def _request_order(
    session: AsyncSession, *, user: Principal, ride_id: uuid.UUID, now: datetime
) -> PaymentView | ChargeOrder:
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
        return PaymentView(intent, await repository.charge(intent.txid))
    if intent is None:
        assert ride.driver_id is not None, "a completed ride has its driver"
        intent = await _new_intent(session, ride, ride.driver_id, now)
    return order_for(intent)


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
register_paid_hook(FEE_PURPOSE, count_confirmed)
register_close_hook(PURPOSE, expire_with_charge)
register_close_hook(FEE_PURPOSE, expire_with_charge)
