"""A ride's charge paid from the passenger's Laura bank account, over real HTTP: an internal Pix settles it at
once through the same exactly-once path as the PSP's webhook; refusals write nothing, two payments apply once."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import httpx

from laura.core.jobs import JobRuntime, bind_runtime
from laura.pix.psp import ChargeStatus
from laura.pix.tasks import withdraw_charge_job
from tests.mobility.payments.support import (
    CompletedRide,
    balances,
    completed_ride,
    open_account,
    rows,
    run_charge_jobs,
)
from tests.mobility.support import passenger
from tests.pix.conftest import db, settings  # noqa: F401
from tests.pix.sandbox.fixtures import sandbox_server, sandbox_url  # noqa: F401


async def charged(app, client: httpx.AsyncClient, funds: Decimal | None) -> tuple[CompletedRide, dict]:
    """A completed ride with its live charge; its passenger's account holds `funds` (None: no account)."""
    ride = await completed_ride(app, client)
    assert await run_charge_jobs(app) == ["charged"]
    if funds is not None:
        await open_account(app, ride.rider_user["id"], funds)
    return ride, (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()


def pay(client: httpx.AsyncClient, ride: CompletedRide, intent_id: str, key: str | None = None):
    headers = {**ride.rider, "Idempotency-Key": key or str(uuid.uuid4())}
    return client.post(f"/payments/{intent_id}/pay-from-account", headers=headers)


async def test_the_fare_is_paid_from_the_account_and_split_once(app, client: httpx.AsyncClient) -> None:
    ride, payment = await charged(app, client, Decimal("100.00"))
    fare = round(ride.fare * 100)
    commission = (fare * 20 + 50) // 100
    customer = f"2101.{ride.rider_user['id']}"
    key = str(uuid.uuid4())

    answer = await pay(client, ride, payment["id"], key)

    assert answer.status_code == 200, answer.text
    paid = answer.json()
    assert paid["status"] == "CONFIRMED" and paid["chargeStatus"] == "PAID" and paid["purpose"] == "RIDE"
    assert paid["e2eId"].startswith("E99999999") and len(paid["e2eId"]) == 32
    assert (await client.get(f"/rides/{ride.id}", headers=ride.rider)).json()["status"] == "PAID"
    assert await balances(app) == {
        "1300": 0,
        "4100": 0,
        "4200": commission,
        f"2100.{ride.driver.id}": fare - commission,
    }
    txid = payment["txid"]
    entries = await rows(
        app,
        "SELECT t.reference, t.reason, a.code, e.direction, e.amount FROM ledger_transactions t"
        " JOIN ledger_entries e ON e.transaction_id = t.id JOIN ledger_accounts a ON a.id = e.account_id"
        " WHERE t.reference LIKE '%' || :t ORDER BY t.reference, e.direction, a.code",
        t=txid,
    )
    assert entries == [
        (f"pix-internal:{txid}", "PIX_TRANSFER", "1300", "C", fare),
        (f"pix-internal:{txid}", "PIX_TRANSFER", customer, "D", fare),
        (f"ride-split:{txid}", "RIDE_COMMISSION", f"2100.{ride.driver.id}", "C", fare - commission),
        (f"ride-split:{txid}", "RIDE_COMMISSION", "4200", "C", commission),
        (f"ride-split:{txid}", "RIDE_COMMISSION", "4100", "D", fare),
        (f"ride:{txid}", "RIDE_PAYMENT", "4100", "C", fare),
        (f"ride:{txid}", "RIDE_PAYMENT", "1300", "D", fare),
    ]
    assert await rows(app, "SELECT source, status, external_id FROM financial_events") == [
        ("internal", "applied", paid["e2eId"])
    ]
    confirmed = await rows(app, "SELECT data, user_ids FROM outbox WHERE type = 'payment.confirmed'")
    assert len(confirmed) == 1 and confirmed[0][0]["e2eId"] == paid["e2eId"]
    assert set(confirmed[0][1]) == {uuid.UUID(ride.rider_user["id"]), uuid.UUID(ride.driver.user["id"])}
    transfers = await rows(app, "SELECT type, status, amount_cents, e2e_id, description FROM transfers")
    assert transfers == [("PIX", "COMPLETED", fare, paid["e2eId"], "Corrida Laura")]

    statement = (await client.get("/api/accounts/me/statement", headers=ride.rider)).json()["data"]
    assert statement[0]["direction"] == "DEBIT" and statement[0]["amount"] == ride.fare
    assert statement[0]["description"] == "Corrida Laura" and statement[0]["type"] == "PIX_TRANSFER"
    assert statement[0]["balance"] == float(Decimal("100.00") - Decimal(fare) / 100)

    withdrawals = await rows(
        app, "SELECT args FROM procrastinate_jobs WHERE task_name = 'pix.withdraw_charge'"
    )
    assert withdrawals == [({"txid": txid},)]
    with bind_runtime(JobRuntime(db=app.state.db, settings=app.state.settings)):
        assert await withdraw_charge_job(txid=txid) == "withdrawn"
    assert (await app.state.psp.get_charge(txid)).status is ChargeStatus.REMOVIDA_PELO_USUARIO_RECEBEDOR

    replay = await pay(client, ride, payment["id"], key)
    assert replay.status_code == 200 and replay.json() == paid
    again = await pay(client, ride, payment["id"])
    assert again.status_code == 409 and again.json()["error"] == "PAYMENT_NOT_PAYABLE"
    assert await rows(
        app, "SELECT count(*) FROM ledger_transactions WHERE reference LIKE '%' || :t", t=txid
    ) == [(3,)]


async def test_a_short_balance_is_refused_and_writes_nothing(app, client: httpx.AsyncClient) -> None:
    ride, payment = await charged(app, client, Decimal("1.00"))

    answer = await pay(client, ride, payment["id"])

    assert answer.status_code == 402 and answer.json()["error"] == "INSUFFICIENT_BALANCE"
    account = (await client.get("/api/accounts/me", headers=ride.rider)).json()
    assert account["balance"] == 1.0 and account["available"] == 1.0
    assert await rows(app, "SELECT status FROM payment_intents") == [("PENDING",)]
    assert await rows(app, "SELECT status FROM pix_charges") == [("ACTIVE",)]
    assert await rows(app, "SELECT count(*) FROM financial_events") == [(0,)]
    assert await rows(app, "SELECT count(*) FROM transfers") == [(0,)]
    assert await rows(app, "SELECT count(*) FROM outbox WHERE type = 'payment.confirmed'") == [(0,)]
    assert await rows(
        app, "SELECT count(*) FROM ledger_transactions WHERE reference LIKE '%' || :t", t=payment["txid"]
    ) == [(0,)]
    assert (await client.get(f"/rides/{ride.id}", headers=ride.rider)).json()["status"] == "PAYMENT_PENDING"


async def test_concurrent_payments_of_one_charge_apply_once(app, client: httpx.AsyncClient) -> None:
    ride, payment = await charged(app, client, Decimal("100.00"))
    fare = round(ride.fare * 100)

    answers = await asyncio.gather(*(pay(client, ride, payment["id"]) for _ in range(5)))

    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409, 409]
    assert {a.json()["error"] for a in answers if a.status_code == 409} <= {
        "PAYMENT_NOT_PAYABLE",
        "PIX_CHARGE_NOT_ACTIVE",
    }
    account = (await client.get("/api/accounts/me", headers=ride.rider)).json()
    assert account["balance"] == float(Decimal("100.00") - Decimal(fare) / 100)
    assert await rows(app, "SELECT count(*) FROM transfers") == [(1,)]
    assert await rows(app, "SELECT count(*) FROM financial_events") == [(1,)]
    assert await rows(app, "SELECT count(*) FROM outbox WHERE type = 'payment.confirmed'") == [(1,)]
    assert await rows(app, "SELECT count(*) FROM ledger_transactions WHERE entity_type = 'ride'") == [(2,)]


async def test_another_users_intent_is_404_and_a_missing_or_blocked_account_is_refused(
    app, client: httpx.AsyncClient
) -> None:
    ride, payment = await charged(app, client, None)
    _, stranger = await passenger(client)
    url = f"/payments/{payment['id']}/pay-from-account"

    for headers in (stranger, ride.driver.headers):
        refused = await client.post(url, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
        assert refused.status_code == 404 and refused.json()["error"] == "PAYMENT_NOT_FOUND"
    unknown = await client.post(f"/payments/{uuid.uuid4()}/pay-from-account", headers=ride.rider)
    assert unknown.status_code == 404 and unknown.json()["error"] == "PAYMENT_NOT_FOUND"
    no_account = await pay(client, ride, payment["id"])
    assert no_account.status_code == 404 and no_account.json()["error"] == "ACCOUNT_NOT_FOUND"

    await open_account(app, ride.rider_user["id"], Decimal("100.00"))
    async with app.state.db.engine.begin() as conn:
        await conn.exec_driver_sql("UPDATE bank_accounts SET status = 'BLOCKED'")
    blocked = await pay(client, ride, payment["id"])
    assert blocked.status_code == 403 and blocked.json()["error"] == "ACCOUNT_NOT_ACTIVE"
    assert await rows(app, "SELECT status FROM payment_intents") == [("PENDING",)]
    assert await rows(app, "SELECT count(*) FROM financial_events") == [(0,)]
