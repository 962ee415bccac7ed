"""Money received for a ride that must not pay it (again) is owed back: booked D 1300 / C 2300
(REEMBOLSOS_A_PAGAR) and put up for review (`payment_refunds`), once per e2eId; the ride is paid once."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from laura.mobility.payments.outcomes import RefundReason
from laura.pix.outcomes import ReceivedPixOutcome, ReceivedPixReason
from laura.pix.tasks import reconcile
from tests.mobility.payments.support import balances, completed_ride, rows, run_charge_jobs
from tests.mobility.support import admin
from tests.pix.conftest import PIX_KEY, WEBHOOK_SECRET, db, live_url, settings  # noqa: F401
from tests.pix.sandbox.fixtures import control, sandbox_server, sandbox_url  # noqa: F401
from tests.sql_support import call

SIGNED = f"/webhooks/efi/pix?hmac={WEBHOOK_SECRET}&ignorar=/pix"
CONTEXT = json.dumps({"chain": 3, "ip": "203.0.113.9", "user_agent": "psp", "request_id": "req-9"})


async def refund_books(app) -> list[tuple]:
    """Every entry of the refunds owed, with its transaction's reference and reason."""
    return await rows(
        app,
        "SELECT t.reference, t.reason, a.code, e.direction::text, e.amount FROM ledger_transactions t"
        " JOIN ledger_entries e ON e.transaction_id = t.id JOIN ledger_accounts a ON a.id = e.account_id"
        " WHERE t.reason = 'RIDE_REFUND_DUE' ORDER BY t.reference, e.direction DESC",
    )


async def pay(client: httpx.AsyncClient, control: httpx.AsyncClient, txid: str) -> dict:
    """A payer pays the charge at the sandbox; its webhook is posted here (none is registered)."""
    entry = (await control.post(f"/sandbox/cob/{txid}/pay")).json()
    answer = await client.post(SIGNED, json={"pix": [entry]})
    assert answer.status_code == 200, answer.text
    return entry


async def paid_once(app, client: httpx.AsyncClient, ride, txid: str) -> None:  # type: ignore[no-untyped-def]
    """The ride is PAID by `txid` alone: one fare and one split on the ledger, one payment.confirmed."""
    fare = round(ride.fare * 100)
    commission = (fare * 20 + 50) // 100
    assert (await client.get(f"/rides/{ride.id}", headers=ride.rider)).json()["status"] == "PAID"
    assert await rows(
        app,
        "SELECT reference FROM ledger_transactions WHERE reason LIKE 'RIDE_%' AND reason <> 'RIDE_REFUND_DUE'"
        " ORDER BY 1",
    ) == [(f"ride-split:{txid}",), (f"ride:{txid}",)]
    found = await balances(app)
    assert (found["4100"], found["4200"], found[f"2100.{ride.driver.id}"]) == (
        0,
        commission,
        fare - commission,
    )
    assert await rows(app, "SELECT data ->> 'txid' FROM outbox WHERE type = 'payment.confirmed'") == [(txid,)]


async def test_a_late_payment_of_an_expired_charge_after_the_ride_was_paid_is_owed_back(
    app,
    client: httpx.AsyncClient,
    control: httpx.AsyncClient,
    settings,
) -> None:
    ride = await completed_ride(app, client)
    await run_charge_jobs(app)
    old = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()["txid"]
    # Our clock runs ahead of the PSP's: the janitor closes the charge that the PSP still accepts.
    ahead = datetime.now(UTC) + timedelta(seconds=settings.ride_payment_expires_seconds + 120)
    await reconcile(app.state.db, app.state.psp, payer_key=PIX_KEY, grace_seconds=0, batch_size=10, now=ahead)
    new = (await client.post("/payments/intent", json={"rideId": ride.id}, headers=ride.rider)).json()["txid"]
    await pay(client, control, new)

    late = await pay(client, control, old)

    await paid_once(app, client, ride, new)
    fare = round(ride.fare * 100)
    e2e = late["endToEndId"]
    assert await refund_books(app) == [
        (f"ride-refund:{e2e}", "RIDE_REFUND_DUE", "1300", "D", fare),
        (f"ride-refund:{e2e}", "RIDE_REFUND_DUE", "2300", "C", fare),
    ]
    assert (await balances(app))["1300"] == -2 * fare
    assert await rows(app, "SELECT status, reason FROM financial_events WHERE external_id = :e", e=e2e) == [
        (ReceivedPixOutcome.FLAGGED.value, ReceivedPixReason.CHARGE_NOT_ACTIVE.value)
    ]
    assert await rows(
        app, "SELECT e2e_id, txid, ride_id::text, amount_cents, reason, status FROM payment_refunds"
    ) == [(e2e, old, ride.id, fare, RefundReason.CHARGE_NOT_ACTIVE.value, "OPEN")]
    told = await rows(app, "SELECT data, user_ids FROM outbox WHERE type = 'payment.refund_due'")
    assert len(told) == 1 and told[0][1] == [uuid.UUID(ride.rider_user["id"])]
    assert told[0][0]["e2eId"] == e2e and told[0][0]["amount"] == f"{ride.fare:.2f}"

    again = await client.post(SIGNED, json={"pix": [late], "copy": 1})  # the same Pix, other bytes
    assert again.json()["outcome"] == "duplicate"
    assert len(await refund_books(app)) == 2
    assert await rows(app, "SELECT count(*) FROM payment_refunds") == [(1,)]


async def test_ops_list_the_refunds_owed_and_close_one_once_the_payer_is_refunded(
    app, client: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    ride = await completed_ride(app, client)
    await run_charge_jobs(app)
    txid = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()["txid"]
    await pay(client, control, txid)
    e2e = "E" + secrets.token_hex(15)[:31]
    await call(
        app.state.db,
        "pix_apply_received",
        txid=txid,
        e2e_id=e2e,
        amount_cents=round(ride.fare * 100),
        occurred_at=datetime.now(UTC),
        payload=json.dumps({"endToEndId": e2e, "txid": txid, "valor": f"{ride.fare:.2f}"}),
        source="webhook",
        delivery_id=None,
        context=CONTEXT,
    )
    staff = await admin(app, client)

    listed = (await client.get("/admin/payments/refunds?status=OPEN", headers=staff)).json()
    assert listed["pagination"]["total"] == 1
    (item,) = listed["data"]
    assert (item["e2eId"], item["txid"], item["rideId"], item["amount"], item["reason"], item["status"]) == (
        e2e,
        txid,
        ride.id,
        ride.fare,
        RefundReason.CHARGE_NOT_ACTIVE.value,
        "OPEN",
    )
    assert (await client.get("/admin/payments/refunds", headers=ride.rider)).status_code == 403

    resolved = await client.post(
        f"/admin/payments/refunds/{item['id']}/resolve",
        json={"note": "Devolução feita no PSP"},
        headers=staff,
    )
    again = await client.post(
        f"/admin/payments/refunds/{item['id']}/resolve", json={"note": "twice"}, headers=staff
    )
    missing = await client.post(
        f"/admin/payments/refunds/{uuid.uuid4()}/resolve", json={"note": "none"}, headers=staff
    )

    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "REFUNDED" and resolved.json()["note"] == "Devolução feita no PSP"
    assert (again.status_code, again.json()["error"]) == (409, "REFUND_ALREADY_RESOLVED")
    assert (missing.status_code, missing.json()["error"]) == (404, "REFUND_NOT_FOUND")
    fare = round(ride.fare * 100)
    assert (await balances(app))["1300"] == -fare  # the fare still receivable; the refund came and went
    owed = await rows(
        app,
        "SELECT coalesce(sum(CASE e.direction WHEN 'C' THEN e.amount ELSE -e.amount END), 0) FROM ledger_entries e"
        " JOIN ledger_accounts a ON a.id = e.account_id WHERE a.code = '2300'",
    )
    assert owed == [(0,)]
    assert await rows(app, "SELECT count(*) FROM audit_logs WHERE action = 'payment.refund.resolved'") == [
        (1,)
    ]
    assert (await client.get("/admin/payments/refunds?status=OPEN", headers=staff)).json()["data"] == []


async def test_an_old_charge_still_payable_and_paid_after_the_new_one_is_owed_back(
    app, client: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    ride = await completed_ride(app, client)
    await run_charge_jobs(app)
    old = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()["txid"]
    async with app.state.db.engine.begin() as conn:  # our intent expired; the PSP's charge has not
        await conn.exec_driver_sql("UPDATE payment_intents SET expires_at = now() - interval '1 second'")
    new = (await client.post("/payments/intent", json={"rideId": ride.id}, headers=ride.rider)).json()["txid"]
    await pay(client, control, new)

    late = await pay(client, control, old)

    await paid_once(app, client, ride, new)
    fare = round(ride.fare * 100)
    assert await refund_books(app) == [
        (f"ride-refund:{late['endToEndId']}", "RIDE_REFUND_DUE", "1300", "D", fare),
        (f"ride-refund:{late['endToEndId']}", "RIDE_REFUND_DUE", "2300", "C", fare),
    ]
    assert await rows(app, "SELECT txid, reason FROM payment_refunds") == [
        (old, RefundReason.RIDE_ALREADY_PAID.value)
    ]
    assert await rows(app, "SELECT status FROM payment_intents ORDER BY created_at") == [
        ("EXPIRED",),
        ("CONFIRMED",),
    ]


async def test_the_old_charge_paid_first_pays_the_ride_and_the_new_one_is_then_owed_back(
    app, client: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    ride = await completed_ride(app, client)
    await run_charge_jobs(app)
    old = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()["txid"]
    async with app.state.db.engine.begin() as conn:
        await conn.exec_driver_sql("UPDATE payment_intents SET expires_at = now() - interval '1 second'")
    new = (await client.post("/payments/intent", json={"rideId": ride.id}, headers=ride.rider)).json()["txid"]

    await pay(client, control, old)  # paid in time by the PSP's clock: it pays the ride
    assert await rows(app, "SELECT status FROM payment_intents ORDER BY created_at") == [
        ("CONFIRMED",),
        ("EXPIRED",),
    ]
    second = await pay(client, control, new)

    await paid_once(app, client, ride, old)
    shown = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()
    assert (shown["status"], shown["txid"]) == ("CONFIRMED", old)  # the payment, not the refunded charge
    assert await rows(app, "SELECT e2e_id, txid, reason FROM payment_refunds") == [
        (second["endToEndId"], new, RefundReason.RIDE_ALREADY_PAID.value)
    ]


async def test_a_second_pix_into_a_paid_charge_is_owed_back_once(
    app, client: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    ride = await completed_ride(app, client)
    await run_charge_jobs(app)
    txid = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()["txid"]
    first = await pay(client, control, txid)
    fare = round(ride.fare * 100)
    e2e = "E" + first["endToEndId"][1:-4] + "ZZZ9"  # another Pix the PSP reports for the same charge

    answers = [
        await call(
            app.state.db,
            "pix_apply_received",
            txid=txid,
            e2e_id=e2e,
            amount_cents=fare,
            occurred_at=datetime.now(UTC),
            payload=json.dumps({"endToEndId": e2e, "txid": txid, "valor": f"{ride.fare:.2f}"}),
            source="reconciliation",
            delivery_id=None,
            context=CONTEXT,
        )
        for _ in range(2)
    ]

    assert [a["outcome"] for a in answers] == [ReceivedPixOutcome.FLAGGED, ReceivedPixOutcome.DUPLICATE]
    assert answers[0]["reason"] == ReceivedPixReason.CHARGE_NOT_ACTIVE
    await paid_once(app, client, ride, txid)
    assert await refund_books(app) == [
        (f"ride-refund:{e2e}", "RIDE_REFUND_DUE", "1300", "D", fare),
        (f"ride-refund:{e2e}", "RIDE_REFUND_DUE", "2300", "C", fare),
    ]
    assert await rows(app, "SELECT e2e_id, reason, status FROM payment_refunds") == [
        (e2e, RefundReason.CHARGE_NOT_ACTIVE.value, "OPEN")
    ]
