"""Pix to keys of our own directory: settled inside the bank at once, night limit, BR Codes, scheduling."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from laura.bank.accounts.cache import BalanceCache
from laura.bank.transfers import pix
from laura.bank.transfers.errors import TransferLimitExceeded
from laura.bank.transfers.schemas import PixRequest
from laura.bank.transfers.service import Limits
from laura.bank.transfers.tasks import execute_scheduled_transfer
from laura.core.jobs import JobRuntime, bind_runtime
from laura.pix.brcode import build_brcode
from tests.bank.support import balance, funded_customer

E2E = re.compile(r"^E99999999\d{12}[A-Za-z0-9]{11}$")


async def _with_key(app, client, amount="0", key=None):
    user, headers = await funded_customer(app, client, amount)
    key = key or f"pix-{uuid.uuid4().hex[:8]}@example.com"
    response = await client.post("/api/pix-keys", json={"type": "EMAIL", "key": key}, headers=headers)
    assert response.status_code == 201, response.text
    return user, headers, key


async def _pix(client, headers, **body):
    return await client.post("/api/transfers/pix", json=body, headers=headers)


async def _scalar(app, sql, **params):
    async with app.state.db.engine.connect() as conn:
        return await conn.scalar(text(sql), params)


async def test_pix_to_our_key_completes_at_once(app, client):
    _sender, headers = await funded_customer(app, client, "100.00")
    _recipient, r_headers, key = await _with_key(app, client)
    response = await _pix(client, headers, pixKey=key.upper(), amount=150.00 - 110.00, description="Projeto")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["type"] == "PIX" and body["status"] == "COMPLETED" and body["amount"] == 40.0
    assert body["pixKey"] == key and E2E.match(body["e2eId"]) and body["completedAt"].endswith("Z")
    assert await balance(client, headers) == Decimal("60.00")
    assert await balance(client, r_headers) == Decimal("40.00")
    assert (
        await _scalar(
            app, "SELECT count(*) FROM ledger_transactions WHERE reference = :r", r=f"transfer:{body['id']}"
        )
        == 1
    )
    assert (
        await _scalar(
            app,
            "SELECT count(*) FROM audit_logs WHERE action = 'TRANSFER_COMPLETED' AND resource_id = :i",
            i=body["id"],
        )
        == 1
    )
    events = await _scalar(app, "SELECT array_agg(type ORDER BY id) FROM outbox WHERE type LIKE 'transfer.%'")
    assert events == ["transfer.completed", "transfer.received"]
    assert await _scalar(app, "SELECT count(*) FROM pix_sends") == 0
    detail = await client.get(f"/api/transfers/{body['id']}", headers=r_headers)
    assert detail.status_code == 404


async def test_refusals(app, client):
    _, headers, own_key = await _with_key(app, client, "50.00")
    invalid = await _pix(client, headers, pixKey="not a key", amount=1.00)
    assert invalid.status_code == 400 and invalid.json()["error"] == "INVALID_PIX_KEY"
    assert (await _pix(client, headers, pixKey=own_key, amount=1.00)).status_code == 422
    assert (await _pix(client, headers, amount=1.00)).status_code == 422
    assert (await _pix(client, headers, pixKey=own_key)).status_code == 422
    _, _, key = await _with_key(app, client)
    broke = await _pix(client, headers, pixKey=key, amount=50.01)
    assert broke.status_code == 402 and broke.json()["error"] == "INSUFFICIENT_BALANCE"
    assert await balance(client, headers) == Decimal("50.00")


async def test_static_br_code_pays_its_key_and_amount(app, client):
    _, headers = await funded_customer(app, client, "100.00")
    _, r_headers, key = await _with_key(app, client)
    code = build_brcode(merchant_name="Loja", merchant_city="Sao Paulo", key=key, amount=Decimal("12.34"))
    paid = await _pix(client, headers, brCode=code)
    assert paid.status_code == 201 and paid.json()["amount"] == 12.34 and paid.json()["status"] == "COMPLETED"
    mismatch = await _pix(client, headers, brCode=code, amount=10.00)
    assert mismatch.status_code == 422 and mismatch.json()["error"] == "AMOUNT_MISMATCH"
    open_amount = build_brcode(merchant_name="Loja", merchant_city="Sao Paulo", key=key)
    assert (await _pix(client, headers, brCode=open_amount)).status_code == 422
    assert (await _pix(client, headers, brCode=open_amount, amount=1.66)).status_code == 201
    dynamic = build_brcode(merchant_name="Loja", merchant_city="Sao Paulo", location="psp.example/v2/cob/abc")
    refused = await _pix(client, headers, brCode=dynamic)
    assert refused.status_code == 422 and refused.json()["error"] == "DYNAMIC_BR_CODE_UNSUPPORTED"
    broken = await _pix(client, headers, brCode=code[:-4] + "0000")
    assert broken.status_code == 400
    assert await balance(client, r_headers) == Decimal("14.00")


async def test_night_limit_sums_the_current_night(app, client):
    sender, _ = await funded_customer(app, client, "1000.00")
    _, r_headers, key = await _with_key(app, client)
    limits = Limits(per_transfer=Decimal(10000), daily=Decimal(20000), pix_night=Decimal("100.00"))
    sender_id = uuid.UUID(sender["id"])

    async def send(amount: str, now: datetime):
        async with app.state.db.unit_of_work() as session:
            return await pix.send_pix_transfer(
                session,
                user_id=sender_id,
                data=PixRequest(pix_key=key, amount=Decimal(amount)),
                limits=limits,
                cache=BalanceCache(None),
                now=now,
            )

    night = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)  # 20:30 in Brasília
    assert (await send("80.00", night)).status == "COMPLETED"
    with pytest.raises(TransferLimitExceeded):
        await send("20.01", night + timedelta(hours=2))
    assert (await send("20.00", night + timedelta(hours=2))).status == "COMPLETED"
    morning = datetime(2026, 1, 16, 12, 0, tzinfo=UTC)  # 09:00 in Brasília: daytime, no night cap
    assert (await send("500.00", morning)).status == "COMPLETED"
    assert await balance(client, r_headers) == Decimal("600.00")


async def test_a_pix_scheduled_beyond_the_horizon_is_a_422_and_queues_nothing(app, client, settings):
    _, headers = await funded_customer(app, client, "30.00")
    _, _, key = await _with_key(app, client)
    now = datetime.now(UTC)
    horizon = timedelta(days=settings.schedule_max_days)
    for when in ("9999-12-31T00:00:00Z", (now + horizon + timedelta(hours=1)).isoformat()):
        refused = await _pix(client, headers, pixKey=key, amount=1.00, scheduledFor=when)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"] == "VALIDATION_ERROR"
        assert refused.json()["details"] == [
            {"field": "scheduledFor", "message": f"at most {settings.schedule_max_days} days ahead"}
        ]
    assert await _scalar(app, "SELECT count(*) FROM procrastinate_jobs") == 0
    assert await _scalar(app, "SELECT count(*) FROM transfers") == 0
    inside = await _pix(
        client,
        headers,
        pixKey=key,
        amount=1.00,
        scheduledFor=(now + horizon - timedelta(hours=1)).isoformat(),
    )
    assert inside.status_code == 201 and inside.json()["status"] == "SCHEDULED"


async def test_scheduled_pix_runs_later_or_fails_on_a_short_balance(app, client, settings):
    _sender, headers = await funded_customer(app, client, "30.00")
    _, r_headers, key = await _with_key(app, client)
    when = datetime.now(UTC) + timedelta(days=2)
    first = await _pix(client, headers, pixKey=key, amount=20.00, scheduledFor=when.isoformat())
    second = await _pix(client, headers, pixKey=key, amount=20.00, scheduledFor=when.isoformat())
    assert first.status_code == second.status_code == 201
    assert first.json()["status"] == "SCHEDULED" and first.json()["scheduledFor"].endswith("Z")
    assert await balance(client, headers) == Decimal("30.00")
    jobs = await _scalar(
        app,
        "SELECT count(*) FROM procrastinate_jobs WHERE task_name = :t AND scheduled_at = :w",
        t=pix.EXECUTE_TASK,
        w=when,
    )
    assert jobs == 2
    with bind_runtime(JobRuntime(db=app.state.db, settings=settings)):
        await execute_scheduled_transfer(transfer_id=first.json()["id"])
        await execute_scheduled_transfer(transfer_id=second.json()["id"])
        await execute_scheduled_transfer(transfer_id=first.json()["id"])
    done = (await client.get(f"/api/transfers/{first.json()['id']}", headers=headers)).json()
    failed = (await client.get(f"/api/transfers/{second.json()['id']}", headers=headers)).json()
    assert done["status"] == "COMPLETED" and E2E.match(done["e2eId"])
    assert failed["status"] == "FAILED" and failed["failureReason"] == "Saldo insuficiente"
    assert await balance(client, headers) == Decimal("10.00")
    assert await balance(client, r_headers) == Decimal("20.00")
    assert await _scalar(app, "SELECT count(*) FROM outbox WHERE type = 'transfer.failed'") == 1


async def test_pix_rate_limit_is_shared_with_p2p(app, client, settings):
    app.state.settings = settings.model_copy(update={"rate_limit_transfers": "2/hour"})
    app.state.limiter.enabled = True
    _, headers = await funded_customer(app, client, "100.00")
    _, _, key = await _with_key(app, client)
    assert (await _pix(client, headers, pixKey=key, amount=1.00)).status_code == 201
    assert (await _pix(client, headers, pixKey=key, amount=1.00)).status_code == 201
    assert (await _pix(client, headers, pixKey=key, amount=1.00)).status_code == 429
