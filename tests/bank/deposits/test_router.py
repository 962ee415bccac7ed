"""Pix deposits over real HTTP: charge in the sandbox, paid there, the webhook credits the account once."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
from sqlalchemy import text

from laura.audit.service import verify_chain
from tests.bank.support import balance, funded_customer
from tests.pix.conftest import db, live_url, settings, webhook_registered  # noqa: F401 - sandbox-backed fixtures
from tests.pix.sandbox.fixtures import control, sandbox_server, sandbox_url, wait_until  # noqa: F401


async def _all_delivered(control: httpx.AsyncClient, copies: int) -> bool:
    log = (await control.get("/sandbox/webhooks")).json()["deliveries"]
    return len([d for d in log if d["outcome"] == "delivered"]) == copies


async def test_a_paid_deposit_is_credited_once_even_with_duplicated_webhooks(
    app,
    client,
    control: httpx.AsyncClient,
    webhook_registered: str,
) -> None:
    user, headers = await funded_customer(app, client)
    response = await client.post("/api/deposits/pix", json={"amount": 250.75}, headers=headers)
    assert response.status_code == 201, response.text
    deposit = response.json()
    assert deposit["qrCode"].startswith("data:image/png;base64,") and deposit["pixCopiaECola"].startswith(
        "000201"
    )
    assert (
        deposit["amount"] == 250.75 and deposit["status"] == "ACTIVE" and deposit["expiresAt"].endswith("Z")
    )

    (await control.post("/sandbox/faults", json={"webhook": "duplicate", "copies": 4})).raise_for_status()
    (await control.post(f"/sandbox/cob/{deposit['txid']}/pay")).raise_for_status()
    await wait_until(lambda: _all_delivered(control, 4))
    await wait_until(lambda: _credited(app))

    assert await balance(client, headers) == Decimal("250.75")
    async with app.state.db.engine.connect() as conn:
        e2e_id = await conn.scalar(
            text("SELECT e2e_id FROM pix_charges WHERE txid = :t"), {"t": deposit["txid"]}
        )
        events = (
            await conn.execute(text("SELECT data, user_ids FROM outbox WHERE type = 'deposit.received'"))
        ).all()
        assert [tuple(e) for e in events] == [
            (
                {"depositId": deposit["id"], "txid": deposit["txid"], "e2eId": e2e_id, "amount": "250.75"},
                [uuid.UUID(user["id"])],
            )
        ]
        posting = (
            await conn.execute(
                text(
                    "SELECT id, reference, entity_id, external_ref, amount FROM ledger_transactions"
                    " WHERE reason = 'PIX_DEPOSIT'"
                )
            )
        ).all()
        assert [tuple(p)[1:] for p in posting] == [
            (f"deposit:{deposit['txid']}", deposit["id"], e2e_id, 25075)
        ]
        assert posting[0].id.version == 7
        audited = (
            await conn.execute(
                text(
                    "SELECT actor_id, resource_id, new_values FROM audit_logs WHERE action = 'DEPOSIT_RECEIVED'"
                )
            )
        ).all()
        assert [tuple(a) for a in audited] == [
            (
                uuid.UUID(user["id"]),
                deposit["id"],
                {"txid": deposit["txid"], "e2eId": e2e_id, "amountCents": 25075},
            )
        ]
        assert (
            await conn.scalar(text("SELECT status FROM pix_charges WHERE txid = :t"), {"t": deposit["txid"]})
            == "PAID"
        )
    async with app.state.db.unit_of_work() as session:
        report = await verify_chain(session)
    assert report.first_broken_id is None, report
    charge = await client.get(f"/pix/charges/{deposit['txid']}", headers=headers)
    assert charge.status_code == 200 and charge.json()["status"] == "PAID"


async def _credited(app) -> bool:
    async with app.state.db.engine.connect() as conn:
        return bool(await conn.scalar(text("SELECT count(*) FROM outbox WHERE type = 'deposit.received'")))


async def test_validation_and_auth(app, client, webhook_registered: str) -> None:
    _, headers = await funded_customer(app, client)
    for bad in (0, -1, 1.234):
        assert (
            await client.post("/api/deposits/pix", json={"amount": bad}, headers=headers)
        ).status_code == 422
    assert (await client.post("/api/deposits/pix", json={"amount": 10})).status_code == 401
