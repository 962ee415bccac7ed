"""TED: validation, amount + fee held in one ledger transaction, delivery on banking days, the settle job."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import text

from laura.bank.accounts.cache import BalanceCache
from laura.bank.transfers import ted
from laura.bank.transfers.schemas import TedRequest
from laura.bank.transfers.service import Limits
from laura.bank.transfers.tasks import settle_ted
from laura.core.jobs import JobRuntime, bind_runtime
from tests.bank.support import funded_customer
from tests.helpers import random_cpf

LIMITS = Limits(per_transfer=Decimal(10000), daily=Decimal(20000))
BODY = {
    "bank": "001",
    "agency": "0001",
    "account": "123456-7",
    "accountType": "CHECKING",
    "amount": 1000.00,
    "description": "Transferência",
    "recipientName": "João Silva",
}


async def _account(client, headers) -> dict:
    return (await client.get("/api/accounts/me", headers=headers)).json()


async def test_ted_holds_amount_and_fee_and_the_job_settles_it(app, client, settings):
    _, headers = await funded_customer(app, client, "1500.00")
    response = await client.post(
        "/api/transfers/ted", json={**BODY, "recipientDocument": random_cpf()}, headers=headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "type", "amount", "status", "bank", "fee", "estimatedDelivery"}
    assert (body["type"], body["amount"], body["status"], body["bank"], body["fee"]) == (
        "TED",
        1000.0,
        "PENDING",
        "001",
        8.5,
    )
    held = await _account(client, headers)
    assert (held["balance"], held["available"]) == (1500.0, 491.5)
    async with app.state.db.engine.connect() as conn:
        job = (
            await conn.execute(
                text("SELECT scheduled_at FROM procrastinate_jobs WHERE task_name = 'bank.settle_ted'")
            )
        ).one()
    assert job.scheduled_at == datetime.fromisoformat(body["estimatedDelivery"])

    with bind_runtime(JobRuntime(db=app.state.db, settings=settings)):
        await settle_ted(transfer_id=body["id"])
        await settle_ted(transfer_id=body["id"])

    after = await _account(client, headers)
    assert (after["balance"], after["available"]) == (491.5, 491.5)
    detail = (await client.get(f"/api/transfers/{body['id']}", headers=headers)).json()
    assert detail["status"] == "COMPLETED" and detail["completedAt"] and detail["fee"] == 8.5
    async with app.state.db.engine.connect() as conn:
        fees = await conn.scalar(
            text(
                "SELECT sum(e.amount) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id"
                " WHERE a.code = '4300' AND e.direction = 'C' AND NOT e.pending"
            )
        )
        events = (
            await conn.execute(text("SELECT type FROM outbox WHERE type LIKE 'transfer.%' ORDER BY id"))
        ).all()
    assert fees == 850
    assert [e.type for e in events] == ["transfer.pending", "transfer.completed"]


async def test_a_pending_ted_can_be_cancelled_with_the_fee_back(app, client, settings):
    _, headers = await funded_customer(app, client, "100.00")
    body = {**BODY, "amount": 50.00}
    created = (await client.post("/api/transfers/ted", json=body, headers=headers)).json()
    cancelled = await client.post(
        f"/api/transfers/{created['id']}/cancel", json={"reason": "errei"}, headers=headers
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    with bind_runtime(JobRuntime(db=app.state.db, settings=settings)):
        await settle_ted(transfer_id=created["id"])
    after = await _account(client, headers)
    assert (after["balance"], after["available"]) == (100.0, 100.0)


async def test_validation(app, client):
    _, headers = await funded_customer(app, client, "100.00")
    unknown = await client.post(
        "/api/transfers/ted", json={**BODY, "bank": "999", "amount": 1}, headers=headers
    )
    assert unknown.status_code == 422 and unknown.json()["error"] == "BANK_NOT_FOUND"
    for field, bad in (
        ("agency", "12"),
        ("agency", "12345-67"),
        ("account", "12a45-6"),
        ("bank", "1"),
        ("recipientDocument", "111.111.111-11"),
        ("accountType", "LOAN"),
        ("recipientName", ""),
    ):
        response = await client.post(
            "/api/transfers/ted", json={**BODY, "amount": 1, field: bad}, headers=headers
        )
        assert response.status_code == 422, (field, response.text)
    short = await client.post("/api/transfers/ted", json={**BODY, "amount": 95.00}, headers=headers)
    assert short.status_code == 402 and short.json()["error"] == "INSUFFICIENT_BALANCE"
    assert (await _account(client, headers))["available"] == 100.0


async def _ted_at(app, client, now: datetime):
    user, _ = await funded_customer(app, client, "100.00")
    async with app.state.db.unit_of_work() as session:
        return await ted.send_ted(
            session,
            user_id=uuid.UUID(user["id"]),
            data=TedRequest.model_validate({**BODY, "amount": 10}),
            limits=LIMITS,
            fee=Decimal("8.50"),
            cache=BalanceCache(None),
            now=now,
        )


async def test_delivery_across_a_weekend_and_a_holiday(app, client):
    friday_evening = await _ted_at(app, client, datetime(2026, 1, 16, 21, 0, tzinfo=UTC))  # Fri 18:00 BRT
    assert friday_evening.estimated_delivery == datetime(2026, 1, 19, 12, 0, tzinfo=UTC)  # Mon 09:00 BRT
    before_tiradentes = await _ted_at(app, client, datetime(2026, 4, 20, 21, 0, tzinfo=UTC))  # Mon 18:00
    assert before_tiradentes.estimated_delivery == datetime(
        2026, 4, 22, 12, 0, tzinfo=UTC
    )  # Wed (Tue 21 holiday)
    inside_window = await _ted_at(app, client, datetime(2026, 1, 15, 14, 0, tzinfo=UTC))  # Thu 11:00
    assert inside_window.estimated_delivery == datetime(2026, 1, 15, 14, 30, tzinfo=UTC)
