"""A ride paid by Pix over real HTTP: completion asks for the fare, the charge job creates it in the PSP
sandbox, the payment's webhook splits it in the ledger once; expired charges, wrong amounts, strangers."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
from prometheus_client import REGISTRY

from tests.mobility.payments.support import balances, completed_ride, rows, run_charge_jobs
from tests.mobility.support import passenger
from tests.pix.conftest import WEBHOOK_SECRET, db, live_url, settings, webhook_registered  # noqa: F401
from tests.pix.sandbox.fixtures import control, sandbox_server, sandbox_url, wait_until  # noqa: F401

SIGNED = f"/webhooks/efi/pix?hmac={WEBHOOK_SECRET}&ignorar=/pix"


def confirmed_count() -> float:
    return REGISTRY.get_sample_value("payments_confirmed_total") or 0.0


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def test_a_completed_ride_is_charged_paid_and_split_in_the_ledger(
    app, client: httpx.AsyncClient, control: httpx.AsyncClient, webhook_registered: str
) -> None:
    completed_before, timed_before = sample("rides_completed_total"), sample("ride_duration_seconds_count")
    ride = await completed_ride(app, client)
    assert sample("rides_completed_total") == completed_before + 1
    assert sample("ride_duration_seconds_count") == timed_before + 1
    fare_cents = round(ride.fare * 100)
    commission = (fare_cents * 20 + 50) // 100
    intents = await rows(app, "SELECT status, amount_cents, commission_cents, txid FROM payment_intents")
    assert intents == [("PENDING", fare_cents, commission, None)]
    assert (await client.get(f"/rides/{ride.id}", headers=ride.rider)).json()["status"] == "COMPLETED"

    assert await run_charge_jobs(app) == ["charged"]
    payment = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()
    assert payment["status"] == "PENDING" and payment["chargeStatus"] == "ACTIVE"
    assert payment["amount"] == ride.fare and payment["qrCode"].startswith("data:image/png;base64,")
    assert payment["pixCopiaECola"].startswith("000201")
    assert (await client.get(f"/rides/{ride.id}", headers=ride.rider)).json()["status"] == "PAYMENT_PENDING"
    created = await rows(app, "SELECT data, user_ids FROM outbox WHERE type = 'payment.intent.created'")
    assert len(created) == 1 and created[0][1] == [uuid.UUID(ride.rider_user["id"])]
    assert created[0][0]["rideId"] == ride.id and created[0][0]["qrCode"] == payment["qrCode"]
    assert created[0][0]["pixCopiaECola"] == payment["pixCopiaECola"]

    before, amount_before = confirmed_count(), sample("payments_confirmed_amount_total")
    (await control.post("/sandbox/faults", json={"webhook": "duplicate", "copies": 3})).raise_for_status()
    (await control.post(f"/sandbox/cob/{payment['txid']}/pay")).raise_for_status()

    async def paid() -> bool:
        return (await client.get(f"/rides/{ride.id}", headers=ride.rider)).json()["status"] == "PAID"

    await wait_until(paid)
    driver_code = f"2100.{ride.driver.id}"
    assert await balances(app) == {
        "1300": -fare_cents,
        "4100": 0,
        "4200": commission,
        driver_code: fare_cents - commission,
    }
    postings = await rows(
        app,
        "SELECT reference, reason, entity_id FROM ledger_transactions WHERE entity_type = 'ride' ORDER BY 1",
    )
    assert postings == [
        (f"ride-split:{payment['txid']}", "RIDE_COMMISSION", ride.id),
        (f"ride:{payment['txid']}", "RIDE_PAYMENT", ride.id),
    ]
    seen = (await client.get(f"/rides/{ride.id}/payment", headers=ride.driver.headers)).json()
    assert seen["status"] == "CONFIRMED" and seen["chargeStatus"] == "PAID" and seen["e2eId"]
    assert seen["confirmedAt"] is not None
    assert await rows(app, "SELECT status FROM financial_events WHERE external_id = :e", e=seen["e2eId"]) == [
        ("applied",)
    ]
    confirmed = await rows(app, "SELECT data, user_ids FROM outbox WHERE type = 'payment.confirmed'")
    assert len(confirmed) == 1 and confirmed[0][0]["e2eId"] == seen["e2eId"]
    assert set(confirmed[0][1]) == {uuid.UUID(ride.rider_user["id"]), uuid.UUID(ride.driver.user["id"])}
    audited = await rows(
        app,
        "SELECT new_values ->> 'status' FROM audit_logs WHERE action = 'RIDE_STATUS_CHANGED' AND resource_id = :r"
        " ORDER BY id",
        r=ride.id,
    )
    assert audited[-2:] == [("PAYMENT_PENDING",), ("PAID",)]
    assert confirmed_count() == before + 1
    assert round((sample("payments_confirmed_amount_total") - amount_before) * 100) == fare_cents


async def test_concurrent_copies_of_the_payment_apply_once(
    app, client: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    ride = await completed_ride(app, client)
    await run_charge_jobs(app)
    txid = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()["txid"]
    # No webhook is registered: the sandbox only records the Pix, and its copies are posted here at once.
    entry = (await control.post(f"/sandbox/cob/{txid}/pay")).json()
    bodies = [json.dumps({"pix": [entry], "copy": n}) for n in range(8)]

    answers = await asyncio.gather(
        *(client.post(SIGNED, content=b, headers={"content-type": "application/json"}) for b in bodies)
    )

    assert sorted(a.json()["outcome"] for a in answers) == ["applied"] + ["duplicate"] * 7
    assert await rows(app, "SELECT count(*) FROM ledger_transactions WHERE entity_type = 'ride'") == [(2,)]
    assert await rows(app, "SELECT status FROM payment_intents") == [("CONFIRMED",)]
    assert await rows(app, "SELECT count(*) FROM outbox WHERE type = 'payment.confirmed'") == [(1,)]
    assert (await client.get(f"/rides/{ride.id}", headers=ride.rider)).json()["status"] == "PAID"


async def test_a_payment_of_another_amount_is_held_for_review_not_applied(
    app, client: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    ride = await completed_ride(app, client)
    await run_charge_jobs(app)
    txid = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()["txid"]
    entry = (await control.post(f"/sandbox/cob/{txid}/pay", json={"valor": "1.00"})).json()

    answer = await client.post(SIGNED, json={"pix": [entry]})

    assert answer.status_code == 200
    assert await rows(app, "SELECT status, reason FROM financial_events WHERE txid = :t", t=txid) == [
        ("flagged", "amount_mismatch")
    ]
    assert await rows(app, "SELECT status, review_reason FROM pix_charges WHERE txid = :t", t=txid) == [
        ("ACTIVE", "amount_mismatch")
    ]
    assert await rows(app, "SELECT count(*) FROM ledger_transactions WHERE entity_type = 'ride'") == [(0,)]
    assert await rows(app, "SELECT status FROM payment_intents") == [("PENDING",)]
    assert (await client.get(f"/rides/{ride.id}", headers=ride.rider)).json()["status"] == "PAYMENT_PENDING"


async def test_an_expired_charge_gets_a_new_intent_and_one_live_charge_at_a_time(
    app, client: httpx.AsyncClient
) -> None:
    ride = await completed_ride(app, client)
    await run_charge_jobs(app)
    first = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()

    live = await client.post("/payments/intent", json={"rideId": ride.id}, headers=ride.rider)
    assert live.status_code == 200 and live.json()["txid"] == first["txid"]

    async with app.state.db.engine.begin() as conn:
        await conn.exec_driver_sql("UPDATE payment_intents SET expires_at = now() - interval '1 second'")
    answers = await asyncio.gather(
        *(client.post("/payments/intent", json={"rideId": ride.id}, headers=ride.rider) for _ in range(3))
    )

    assert sorted(a.status_code for a in answers) == [200, 200, 201]
    assert len({a.json()["txid"] for a in answers}) == 1
    fresh = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()
    assert fresh["status"] == "PENDING" and fresh["txid"] not in (None, first["txid"])
    assert await rows(app, "SELECT status FROM payment_intents ORDER BY created_at") == [
        ("EXPIRED",),
        ("PENDING",),
    ]
    assert (await client.get(f"/rides/{ride.id}", headers=ride.rider)).json()["status"] == "PAYMENT_PENDING"


async def test_another_users_ride_payment_is_404_and_the_driver_cannot_ask_for_one(
    app, client: httpx.AsyncClient
) -> None:
    ride = await completed_ride(app, client)
    _, stranger = await passenger(client)

    assert (await client.get(f"/rides/{ride.id}/payment", headers=stranger)).status_code == 404
    refused = await client.post("/payments/intent", json={"rideId": ride.id}, headers=stranger)
    assert refused.status_code == 404 and refused.json()["error"] == "RIDE_NOT_FOUND"
    by_driver = await client.post("/payments/intent", json={"rideId": ride.id}, headers=ride.driver.headers)
    assert by_driver.status_code == 404
    assert (await client.get(f"/rides/{ride.id}/payment", headers=ride.driver.headers)).status_code == 200
