"""Charging a cancellation fee the way a fare is charged.

A passenger's late cancellation records its fee on the ride (rides/cancellation.py). In that canceling
transaction this cancel hook writes a PENDING intent of purpose CANCELLATION_FEE for it and defers the same
charge job a fare's intent gets, so the Pix charge (purpose `mobility.cancellation_fee`) is created at the
PSP outside the request. The driver's share is fixed then, `cancellation_fee_driver_percent` of the fee
(half-up to the cent): their time was what the fee pays for; the platform keeps the rest as commission.
The paid charge's effect is SQL (`mobility_cancellation_fee_paid`, sql/fee_paid.sql); the ride stays
CANCELED throughout.

The policy charges a fee only once a driver accepted (LATE, DRIVER_ARRIVED), so a fee always has its
driver; a cancellation without one has no fee and writes nothing here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import settings_of
from laura.core.jobs import defer
from laura.core.money import to_cents
from laura.mobility.payments.commission import commission_cents
from laura.mobility.payments.models import IntentPurpose, IntentStatus, PaymentIntent
from laura.mobility.payments.repository import PaymentRepository
from laura.mobility.payments.service import CHARGE_TASK, open_driver_account
from laura.mobility.people.models import Driver
from laura.mobility.rides.hooks import on_ride_canceled
from laura.mobility.rides.lifecycle import passenger_user
from laura.mobility.rides.models import Ride


@on_ride_canceled
async def ask_for_fee(session: AsyncSession, ride: Ride, driver: Driver | None, now: datetime) -> None:
    """In the canceling transaction: a ride canceled with a fee gets its PENDING intent and charge job."""
    if ride.cancellation_fee is None or ride.cancellation_fee <= 0:
        return
    assert driver is not None, "the policy charges a fee only once a driver accepted"
    settings = settings_of(session)
    amount_cents = to_cents(ride.cancellation_fee)
    driver_cents = commission_cents(amount_cents, settings.cancellation_fee_driver_percent)
    await open_driver_account(session, driver)
    intent = await PaymentRepository(session).add(
        PaymentIntent(
            ride_id=ride.id,
            purpose=IntentPurpose.CANCELLATION_FEE,
            payer_id=await passenger_user(session, ride),
            driver_id=driver.id,
            amount_cents=amount_cents,
            commission_cents=amount_cents - driver_cents,
            status=IntentStatus.PENDING,
            expires_at=now + timedelta(seconds=settings.ride_payment_expires_seconds),
        )
    )
    await defer(session, CHARGE_TASK, args={"intent_id": str(intent.id)})
