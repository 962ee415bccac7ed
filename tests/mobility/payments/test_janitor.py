"""The janitor (`pix.reconcile`) on ride charges: a payment whose webhook was lost is applied once and
counted; a charge that can no longer be paid takes its intent with it, and the passenger asks for a new one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client import REGISTRY

from laura.pix.tasks import reconcile
from tests.jobs_support import running_worker
from tests.mobility.payments.support import balances, completed_ride, rows, run_charge_jobs
from tests.pix.conftest import PIX_KEY, db, live_url, settings, webhook_registered  # noqa: F401
from tests.pix.sandbox.fixtures import control, sandbox_server, sandbox_url  # noqa: F401


def missed() -> float:
    return REGISTRY.get_sample_value("webhooks_missed_total") or 0.0


async def ride_status(client: httpx.AsyncClient, ride) -> str:  # type: ignore[no-untyped-def]
    return (await client.get(f"/rides/{ride.id}", headers=ride.rider)).json()["status"]


async def test_a_payment_whose_webhook_was_lost_is_applied_by_the_janitor_once(
    app,
    client: httpx.AsyncClient,
    control: httpx.AsyncClient,
    settings,
    webhook_registered: str,
) -> None:
    ride = await completed_ride(app, client)
    await run_charge_jobs(app)
    txid = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()["txid"]
    (await control.post("/sandbox/faults", json={"webhook": "drop"})).raise_for_status()
    (await control.post(f"/sandbox/cob/{txid}/pay")).raise_for_status()
    assert await ride_status(client, ride) == "PAYMENT_PENDING"
    before = missed()

    eager = settings.model_copy(update={"pix_reconcile_grace_seconds": 0})
    async with running_worker(eager, startup_tasks=True) as worker:
        await worker.until(lambda: rows(app, "SELECT 1 FROM rides WHERE status = 'PAID'"))
    second = await reconcile(app.state.db, app.state.psp, payer_key=PIX_KEY, grace_seconds=0, batch_size=10)

    assert second.charges == {}  # nothing open any more
    assert missed() == before + 1
    fare_cents = round(ride.fare * 100)
    commission = (fare_cents * 20 + 50) // 100
    assert await balances(app) == {
        "1300": -fare_cents,
        "4100": 0,
        "4200": commission,
        f"2100.{ride.driver.id}": fare_cents - commission,
    }
    assert await rows(
        app,
        "SELECT reference, reason FROM ledger_transactions WHERE entity_type = 'ride' ORDER BY 1",
    ) == [(f"ride-split:{txid}", "RIDE_COMMISSION"), (f"ride:{txid}", "RIDE_PAYMENT")]
    assert await rows(app, "SELECT status, source FROM financial_events WHERE txid = :t", t=txid) == [
        ("applied", "reconciliation")
    ]
    assert await rows(app, "SELECT status FROM payment_intents") == [("CONFIRMED",)]
    confirmed = await rows(app, "SELECT data, user_ids FROM outbox WHERE type = 'payment.confirmed'")
    assert len(confirmed) == 1 and confirmed[0][0]["txid"] == txid
    assert set(confirmed[0][1]) == {uuid.UUID(ride.rider_user["id"]), uuid.UUID(ride.driver.user["id"])}
    assert await ride_status(client, ride) == "PAID"


@pytest.mark.parametrize("ending", ["expired", "cancelled"])
async def test_a_charge_that_can_no_longer_be_paid_expires_its_intent_then_a_new_one_is_made(
    app,
    client: httpx.AsyncClient,
    settings,
    ending: str,
) -> None:
    ride = await completed_ride(app, client)
    await run_charge_jobs(app)
    txid = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()["txid"]
    if ending == "cancelled":
        await app.state.psp.cancel_charge(txid)  # removed at the PSP, our books unaware
    later = datetime.now(UTC) + timedelta(seconds=settings.ride_payment_expires_seconds + 120)
    moment = later if ending == "expired" else datetime.now(UTC)

    report = await reconcile(
        app.state.db, app.state.psp, payer_key=PIX_KEY, grace_seconds=0, batch_size=10, now=moment
    )

    assert report.charges == {ending: 1}
    assert await rows(app, "SELECT status FROM pix_charges WHERE txid = :t", t=txid) == [(ending.upper(),)]
    assert await rows(app, "SELECT status FROM payment_intents") == [("EXPIRED",)]
    told = await rows(app, "SELECT data, user_ids FROM outbox WHERE type = 'payment.intent.expired'")
    assert len(told) == 1 and told[0][1] == [uuid.UUID(ride.rider_user["id"])]
    assert told[0][0]["rideId"] == ride.id and told[0][0]["txid"] == txid
    shown = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()
    assert (shown["status"], shown["chargeStatus"]) == ("EXPIRED", ending.upper())
    assert await ride_status(client, ride) == "PAYMENT_PENDING"

    fresh = await client.post("/payments/intent", json={"rideId": ride.id}, headers=ride.rider)

    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["status"] == "PENDING" and fresh.json()["txid"] not in (None, txid)
    assert await rows(app, "SELECT status FROM payment_intents ORDER BY created_at") == [
        ("EXPIRED",),
        ("PENDING",),
    ]
    again = await reconcile(app.state.db, app.state.psp, payer_key=PIX_KEY, grace_seconds=0, batch_size=10)
    assert again.charges == {"open": 1}  # the new charge, still payable, is left alone
