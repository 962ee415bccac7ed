"""A payout end to end over HTTP with the PSP sandbox: a real paid ride's share withdrawn, sent by a real
worker and settled by the sandbox's webhook; a Pix the sandbox refuses; a worker killed mid-payout."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
from prometheus_client import REGISTRY

from laura.core.jobs import JobRuntime, bind_runtime
from laura.pix.tasks import submit_send_job
from laura.settings import Settings
from tests.jobs_support import running_worker
from tests.mobility.payments.support import balances, completed_ride, rows, run_charge_jobs
from tests.mobility.payouts.support import balance, funded_driver, payout, posted, run_process_jobs
from tests.pix.conftest import PIX_KEY, db, live_url, settings, webhook_registered  # noqa: F401
from tests.pix.sandbox.fixtures import control, sandbox_server, sandbox_url, wait_until  # noqa: F401
from tests.pix.test_recovery import leave_submit_job_with_a_dead_worker, psp_puts


def no_hold_window(app, **more) -> None:
    app.state.settings = app.state.settings.model_copy(update={"driver_earnings_hold_hours": 0, **more})


def metric(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def status_of(client: httpx.AsyncClient, handle, payout_id: str) -> str:
    return (await client.get(f"/payouts/{payout_id}", headers=handle.headers)).json()["status"]


async def test_a_paid_rides_share_is_held_then_paid_out_by_pix(
    app, client: httpx.AsyncClient, control: httpx.AsyncClient, settings: Settings, webhook_registered: str
) -> None:
    ride = await completed_ride(app, client)
    await run_charge_jobs(app)
    txid = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()["txid"]
    (await control.post(f"/sandbox/cob/{txid}/pay")).raise_for_status()
    await wait_until(lambda: _ride_paid(client, ride))
    code = f"2100.{ride.driver.id}"
    share = (await balances(app))[code]
    amount = float(Decimal(share) / 100)
    held_by_default = await balance(client, ride.driver)
    assert held_by_default == {
        "available": 0.00,
        "onHold": amount,
        "pendingPayouts": 0.00,
        "currency": "BRL",
    }
    no_hold_window(app, payout_min_amount=Decimal("1.00"))
    assert (await balance(client, ride.driver))["available"] == amount
    created, completed = metric("payouts_created_total"), metric("payouts_completed_total")
    paid_out = metric("payouts_completed_amount_total")

    answer = await payout(client, ride.driver, amount)

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["status"], body["amount"], body["notBefore"]) == ("PENDING", amount, None)
    assert await balance(client, ride.driver) == {
        "available": 0.00,
        "onHold": 0.00,
        "pendingPayouts": amount,
        "currency": "BRL",
    }
    assert await rows(
        app,
        "SELECT t.reason, t.kind, h.status FROM ledger_transactions t JOIN ledger_holds h ON h.transaction_id = t.id"
        " WHERE t.reference = :r",
        r=f"payout:{body['id']}",
    ) == [("PAYOUT", "hold", "pending")]

    async with running_worker(settings) as worker:
        await worker.until(lambda: _status_is(client, ride.driver, body["id"], "COMPLETED"))

    done = (await client.get(f"/payouts/{body['id']}", headers=ride.driver.headers)).json()
    assert done["e2eId"] and done["completedAt"]
    assert await balance(client, ride.driver) == {
        "available": 0.00,
        "onHold": 0.00,
        "pendingPayouts": 0.00,
        "currency": "BRL",
    }
    assert await posted(app, code) == 0
    assert await rows(
        app,
        "SELECT a.code, e.direction::text, e.amount FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id"
        " JOIN ledger_transactions t ON t.id = e.transaction_id WHERE t.reference = :r ORDER BY a.code",
        r=f"payout:{body['id']}:settled",
    ) == [("1100", "C", share), (code, "D", share)]
    assert await rows(
        app,
        "SELECT h.status FROM ledger_holds h JOIN ledger_transactions t ON t.id = h.transaction_id"
        " WHERE t.reference = :r",
        r=f"payout:{body['id']}",
    ) == [("posted",)]
    events = await rows(app, "SELECT type, user_ids FROM outbox WHERE type LIKE 'payout.%' ORDER BY id")
    driver_user = uuid.UUID(ride.driver.user["id"])
    assert events == [("payout.pending", [driver_user]), ("payout.completed", [driver_user])]
    assert metric("payouts_created_total") == created + 1
    assert metric("payouts_completed_total") == completed + 1
    assert round((metric("payouts_completed_amount_total") - paid_out) * 100) == share
    financials = (await client.get("/drivers/me/financials", headers=ride.driver.headers)).json()
    assert (financials["ridesPaid"], financials["payoutsMade"], financials["paidOut"]) == (1, 1, amount)
    assert financials["statement"]["total"] == 3


async def test_a_payout_the_psp_refuses_gives_the_money_back(
    app, client: httpx.AsyncClient, control: httpx.AsyncClient, settings: Settings, webhook_registered: str
) -> None:
    no_hold_window(app)
    handle = await funded_driver(app, client, "50.00")
    key = (await client.get("/drivers/me", headers=handle.headers)).json()["pixKey"]
    (await control.post("/sandbox/faults", json={"send_fail_key": key})).raise_for_status()
    failed_before = metric("payouts_failed_total")
    body = (await payout(client, handle, "30.00")).json()
    assert (await balance(client, handle))["available"] == 20.00

    async with running_worker(settings) as worker:
        await worker.until(lambda: _status_is(client, handle, body["id"], "FAILED"))

    failed = (await client.get(f"/payouts/{body['id']}", headers=handle.headers)).json()
    assert failed["failureReason"] and failed["failedAt"]
    assert await balance(client, handle) == {
        "available": 50.00,
        "onHold": 0.00,
        "pendingPayouts": 0.00,
        "currency": "BRL",
    }
    assert await posted(app, f"2100.{handle.id}") == 5000
    assert await rows(
        app,
        "SELECT h.status FROM ledger_holds h JOIN ledger_transactions t ON t.id = h.transaction_id"
        " WHERE t.reference = :r",
        r=f"payout:{body['id']}",
    ) == [("voided",)]
    assert await rows(app, "SELECT count(*) FROM outbox WHERE type = 'payout.failed'") == [(1,)]
    assert metric("payouts_failed_total") == failed_before + 1


async def test_a_worker_killed_mid_payout_resumes_it_and_the_driver_is_paid_once(
    app, client: httpx.AsyncClient, control: httpx.AsyncClient, settings: Settings
) -> None:
    no_hold_window(app)
    handle = await funded_driver(app, client, "40.00")
    body = (await payout(client, handle, "25.00")).json()
    assert await run_process_jobs(app) == ["sent"]
    send = (await rows(app, "SELECT id_envio, payee_key FROM pix_sends"))[0]
    # The submit job reached the PSP, and its worker died before recording the answer.
    await app.state.psp.send_pix(send[0], Decimal("25.00"), PIX_KEY, send[1])
    await leave_submit_job_with_a_dead_worker(app.state.db)

    assert await run_process_jobs(app) == ["skipped"]
    async with running_worker(settings, startup_tasks=True) as worker:
        await worker.until(lambda: _status_is(client, handle, body["id"], "COMPLETED"))

    assert await psp_puts(control, send[0]) == 1
    assert await rows(app, "SELECT count(*) FROM pix_sends") == [(1,)]
    assert await posted(app, f"2100.{handle.id}") == 1500
    assert (await balance(client, handle))["available"] == 15.00
    assert await rows(
        app, "SELECT count(*) FROM ledger_transactions WHERE reference LIKE :r", r=f"payout:{body['id']}%"
    ) == [(2,)]
    with bind_runtime(JobRuntime(db=app.state.db, settings=settings)):
        await submit_send_job(id_envio=send[0])
    assert await psp_puts(control, send[0]) == 1


async def _ride_paid(client: httpx.AsyncClient, ride) -> bool:
    return (await client.get(f"/rides/{ride.id}", headers=ride.rider)).json()["status"] == "PAID"


async def _status_is(client: httpx.AsyncClient, handle, payout_id: str, wanted: str) -> bool:
    return await status_of(client, handle, payout_id) == wanted
