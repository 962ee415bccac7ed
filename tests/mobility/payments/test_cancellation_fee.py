"""A cancellation fee charged like a fare, over real HTTP: the cancel asks for it, the charge job creates
its Pix charge in the PSP sandbox, the payment's webhook splits it between the platform and the driver once;
a free cancellation asks for nothing."""

from __future__ import annotations

import json
import uuid

import httpx
from prometheus_client import REGISTRY

from tests.mobility.payments.support import balances, canceled_with_fee, rows, run_charge_jobs
from tests.mobility.support import PAULISTA, accept, admin, driver, passenger, request_ride
from tests.pix.conftest import WEBHOOK_SECRET, db, settings  # noqa: F401
from tests.pix.sandbox.fixtures import control, sandbox_server, sandbox_url  # noqa: F401

SIGNED = f"/webhooks/efi/pix?hmac={WEBHOOK_SECRET}&ignorar=/pix"


def confirmed_count() -> float:
    return REGISTRY.get_sample_value("payments_confirmed_total") or 0.0


async def test_a_late_cancellations_fee_is_charged_paid_and_split_75_25(
    app, client: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    ride = await canceled_with_fee(app, client)
    assert ride.fee == 5.0
    intents = await rows(
        app, "SELECT purpose, status, amount_cents, commission_cents, txid FROM payment_intents"
    )
    assert intents == [("CANCELLATION_FEE", "PENDING", 500, 125, None)]

    assert await run_charge_jobs(app) == ["charged"]
    payment = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()
    assert payment["purpose"] == "CANCELLATION_FEE" and payment["status"] == "PENDING"
    assert payment["amount"] == 5.0 and payment["chargeStatus"] == "ACTIVE"
    assert payment["pixCopiaECola"].startswith("000201")
    assert await rows(app, "SELECT purpose, description FROM pix_charges") == [
        ("mobility.cancellation_fee", "Taxa de cancelamento Laura")
    ]
    assert (await client.get(f"/rides/{ride.id}", headers=ride.rider)).json()["status"] == "CANCELED"
    created = await rows(app, "SELECT data, user_ids FROM outbox WHERE type = 'payment.intent.created'")
    assert len(created) == 1 and created[0][1] == [uuid.UUID(ride.rider_user["id"])]
    assert created[0][0]["purpose"] == "CANCELLATION_FEE" and created[0][0]["amount"] == "5.00"

    before = confirmed_count()
    entry = (await control.post(f"/sandbox/cob/{payment['txid']}/pay")).json()
    for copy in range(2):
        delivered = await client.post(SIGNED, content=json.dumps({"pix": [entry], "copy": copy}))
        assert delivered.json()["outcome"] == ("applied" if copy == 0 else "duplicate")

    assert await balances(app) == {"1300": -500, "4100": 0, "4200": 125, f"2100.{ride.driver.id}": 375}
    postings = await rows(
        app,
        "SELECT t.reference, t.reason, a.code, e.direction, e.amount FROM ledger_transactions t"
        " JOIN ledger_entries e ON e.transaction_id = t.id JOIN ledger_accounts a ON a.id = e.account_id"
        " WHERE t.entity_type = 'ride' AND t.entity_id = :r ORDER BY t.reference, e.direction, a.code",
        r=ride.id,
    )
    txid = payment["txid"]
    assert postings == [
        (f"fee-split:{txid}", "CANCELLATION_FEE_SPLIT", f"2100.{ride.driver.id}", "C", 375),
        (f"fee-split:{txid}", "CANCELLATION_FEE_SPLIT", "4200", "C", 125),
        (f"fee-split:{txid}", "CANCELLATION_FEE_SPLIT", "4100", "D", 500),
        (f"fee:{txid}", "CANCELLATION_FEE", "4100", "C", 500),
        (f"fee:{txid}", "CANCELLATION_FEE", "1300", "D", 500),
    ]
    seen = (await client.get(f"/rides/{ride.id}/payment", headers=ride.driver.headers)).json()
    assert seen["status"] == "CONFIRMED" and seen["chargeStatus"] == "PAID" and seen["e2eId"]
    assert (await client.get(f"/rides/{ride.id}", headers=ride.rider)).json()["status"] == "CANCELED"
    confirmed = await rows(app, "SELECT data, user_ids FROM outbox WHERE type = 'payment.confirmed'")
    assert len(confirmed) == 1
    assert confirmed[0][0]["purpose"] == "CANCELLATION_FEE" and confirmed[0][0]["amount"] == "5.00"
    assert set(confirmed[0][1]) == {uuid.UUID(ride.rider_user["id"]), uuid.UUID(ride.driver.user["id"])}
    assert confirmed_count() == before + 1


async def test_free_cancellations_ask_for_nothing(app, client: httpx.AsyncClient) -> None:
    admin_headers = await admin(app, client)
    near = await driver(client, admin_headers, at=(PAULISTA[0] + 0.001, PAULISTA[1]))
    _, rider = await passenger(client)

    for accepted in (False, True):  # before acceptance, and within the grace window after it
        ride = (await request_ride(client, rider)).json()
        if accepted:
            assert (await accept(client, near, ride["id"])).status_code == 200
        canceled = await client.post(f"/rides/{ride['id']}/cancel", json={"reason": "plans"}, headers=rider)
        assert canceled.status_code == 200 and canceled.json()["cancellationFee"] == 0.0
        missing = await client.get(f"/rides/{ride['id']}/payment", headers=rider)
        assert missing.status_code == 404 and missing.json()["error"] == "PAYMENT_NOT_FOUND"

    assert await rows(app, "SELECT count(*) FROM payment_intents") == [(0,)]
    assert await run_charge_jobs(app) == []
    assert await rows(app, "SELECT count(*) FROM ledger_transactions WHERE entity_type = 'ride'") == [(0,)]


async def test_a_strangers_fee_is_404_and_a_canceled_ride_asks_for_no_fare(
    app, client: httpx.AsyncClient
) -> None:
    ride = await canceled_with_fee(app, client)
    _, stranger = await passenger(client)

    assert (await client.get(f"/rides/{ride.id}/payment", headers=stranger)).status_code == 404
    refused = await client.post("/payments/intent", json={"rideId": ride.id}, headers=ride.rider)
    assert refused.status_code == 409 and refused.json()["error"] == "RIDE_NOT_PAYABLE"
