"""Pix to keys outside the bank, through the PSP sandbox over real HTTP: the amount is held, the send job
submits it, and the sandbox's webhook (to the app on a real port) posts the hold or voids it."""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy import text

from laura.core.jobs import JobRuntime, bind_runtime
from laura.pix.tasks import submit_send_job
from laura.settings import Settings
from tests.bank.support import funded_customer
from tests.pix.conftest import db, live_url, settings, webhook_registered  # noqa: F401 - sandbox-backed fixtures
from tests.pix.sandbox.fixtures import control, sandbox_server, sandbox_url, wait_until  # noqa: F401

OUTSIDE_KEY = "someone@otherbank.example"


async def _account(client, headers) -> dict:
    return (await client.get("/api/accounts/me", headers=headers)).json()


async def _submit(app, settings: Settings) -> None:
    """Run the enqueued `pix.submit_send` job inline, as a worker would."""
    async with app.state.db.engine.connect() as conn:
        id_envio = await conn.scalar(text("SELECT id_envio FROM pix_sends"))
    with bind_runtime(JobRuntime(db=app.state.db, settings=settings)):
        await submit_send_job(id_envio=id_envio)


async def _status(client, headers, transfer_id: str) -> dict:
    return (await client.get(f"/api/transfers/{transfer_id}", headers=headers)).json()


async def test_external_pix_is_held_then_completed_by_the_psp(
    app,
    client,
    settings: Settings,
    webhook_registered: str,
) -> None:
    _, headers = await funded_customer(app, client, "100.00")
    response = await client.post(
        "/api/transfers/pix",
        json={"pixKey": OUTSIDE_KEY, "amount": 30.00, "description": "Aluguel"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    transfer = response.json()
    assert transfer["status"] == "PENDING" and transfer["e2eId"] is None
    held = await _account(client, headers)
    assert (held["balance"], held["available"], held["blocked"]) == (100.0, 70.0, 30.0)
    cancel = await client.post(f"/api/transfers/{transfer['id']}/cancel", json={}, headers=headers)
    assert cancel.status_code == 409

    await _submit(app, settings)
    done = await wait_until(lambda: _done(client, headers, transfer["id"]))

    assert done["status"] == "COMPLETED" and done["e2eId"].startswith("E09089356") and done["completedAt"]
    after = await _account(client, headers)
    assert (after["balance"], after["available"], after["blocked"]) == (70.0, 70.0, 0.0)
    async with app.state.db.engine.connect() as conn:
        events = (
            await conn.execute(text("SELECT type FROM outbox WHERE type LIKE 'transfer.%' ORDER BY id"))
        ).all()
        legs = (
            await conn.execute(
                text(
                    "SELECT a.code, e.direction::text, e.amount FROM ledger_entries e"
                    " JOIN ledger_accounts a ON a.id = e.account_id WHERE a.code = '1200' AND NOT e.pending"
                )
            )
        ).all()
    assert [e.type for e in events] == ["transfer.pending", "transfer.completed"]
    assert [tuple(leg) for leg in legs] == [("1200", "C", 3000)]


async def _done(client, headers, transfer_id: str) -> dict | None:
    body = await _status(client, headers, transfer_id)
    return body if body["status"] != "PENDING" else None


async def test_a_refused_external_pix_gives_the_money_back(
    app,
    client,
    settings: Settings,
    control: httpx.AsyncClient,
    webhook_registered: str,
) -> None:
    (await control.post("/sandbox/faults", json={"send_fail_key": OUTSIDE_KEY})).raise_for_status()
    _, headers = await funded_customer(app, client, "100.00")
    response = await client.post(
        "/api/transfers/pix", json={"pixKey": OUTSIDE_KEY, "amount": 45.50}, headers=headers
    )
    assert response.status_code == 201 and response.json()["status"] == "PENDING"

    await _submit(app, settings)
    failed = await wait_until(lambda: _done(client, headers, response.json()["id"]))

    assert failed["status"] == "FAILED" and failed["failureReason"]
    after = await _account(client, headers)
    assert (after["balance"], after["available"], after["blocked"]) == (100.0, 100.0, 0.0)
    async with app.state.db.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM outbox WHERE type = 'transfer.failed'")) == 1
        assert await conn.scalar(text("SELECT status FROM pix_sends")) == "FAILED"
    assert Decimal(str(after["balance"])) == Decimal("100.00")
