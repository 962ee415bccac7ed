"""Drivers with money for the payout tests: a real paid ride, or earnings posted on the ledger directly
with the contract's reason (quicker, for the tests about limits and races)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
from sqlalchemy import text

from laura.core.jobs import JobRuntime, bind_runtime
from laura.core.money import to_cents
from laura.ledger import service as ledger
from laura.mobility.payouts.tasks import process_payout_job
from tests.mobility.support import DriverHandle, admin, driver


async def funded_driver(app, client: httpx.AsyncClient, amount: str) -> DriverHandle:
    """An approved driver whose payable account holds `amount` of earnings ('RIDE_COMMISSION')."""
    handle = await driver(client, await admin(app, client), at=None, online=False)
    await earn(app, handle, amount)
    return handle


async def earn(app, handle: DriverHandle, amount: str) -> None:
    cents = to_cents(Decimal(amount))
    code = f"2100.{handle.id}"
    async with app.state.db.unit_of_work() as session:
        await ledger.open_account(
            session,
            code=code,
            name=f"Motorista a pagar {handle.id}",
            type=ledger.AccountType.LIABILITY,
            owner_id=uuid.UUID(handle.user["id"]),
            debits_must_not_exceed_credits=True,
        )
        await ledger.post(
            session,
            [ledger.Line.debit("4100", cents), ledger.Line.credit(code, cents)],
            reference=f"ride-split:test-{uuid.uuid4().hex}",
            reason="RIDE_COMMISSION",
        )


async def run_process_jobs(app) -> list[str]:
    """Run every deferred process_payout job inline, as a worker would."""
    async with app.state.db.engine.connect() as conn:
        ids = (
            await conn.execute(
                text(
                    "SELECT args ->> 'payout_id' FROM procrastinate_jobs"
                    " WHERE task_name = 'mobility.payouts.process_payout' ORDER BY id"
                )
            )
        ).scalars()
        payout_ids = list(ids)
    with bind_runtime(JobRuntime(db=app.state.db, settings=app.state.settings)):
        return [await process_payout_job(payout_id=p) for p in payout_ids]


async def payout(client: httpx.AsyncClient, handle: DriverHandle, amount: str | float) -> httpx.Response:
    headers = {**handle.headers, "Idempotency-Key": uuid.uuid4().hex}
    return await client.post("/payouts", json={"amount": float(amount)}, headers=headers)


async def balance(client: httpx.AsyncClient, handle: DriverHandle) -> dict:
    answer = await client.get(f"/drivers/{handle.id}/balance", headers=handle.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def posted(app, code: str) -> int:
    """The account's posted balance in cents (holds aside), as the ledger keeps it."""
    async with app.state.db.engine.connect() as conn:
        return int(
            await conn.scalar(
                text(
                    "SELECT b.credits_posted - b.debits_posted FROM ledger_accounts a"
                    " JOIN ledger_account_balances b ON b.account_id = a.id WHERE a.code = :c"
                ),
                {"c": code},
            )
        )
