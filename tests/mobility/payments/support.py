"""A ride driven to COMPLETED (or canceled with a fee) over HTTP, its charge job run inline, and readers for
the books."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from decimal import Decimal

import httpx
from sqlalchemy import text

from laura.bank.accounts.service import open_checking_account
from laura.bank.seed import fund_customer
from laura.core.jobs import JobRuntime, bind_runtime
from laura.mobility.payments.tasks import charge
from tests.mobility.support import PAULISTA, DriverHandle, accept, admin, driver, passenger, request_ride


@dataclass
class CompletedRide:
    id: str
    rider: dict
    rider_user: dict
    driver: DriverHandle
    fare: float


_NEARER = itertools.count(1)


async def completed_ride(app, client: httpx.AsyncClient) -> CompletedRide:
    admin_headers = await admin(app, client)
    # Each new driver a little nearer than the last: a test that completes several rides keeps the earlier
    # drivers online at the pickup, and at one distance the offer could go to any of them.
    near = await driver(client, admin_headers, at=(PAULISTA[0] + 0.001 / next(_NEARER), PAULISTA[1]))
    rider_user, rider = await passenger(client)
    ride = (await request_ride(client, rider)).json()
    assert (await accept(client, near, ride["id"])).status_code == 200
    for step in ("arrived", "start", "complete"):
        moved = await client.post(f"/rides/{ride['id']}/{step}", headers=near.headers)
        assert moved.status_code == 200, moved.text
    return CompletedRide(ride["id"], rider, rider_user, near, moved.json()["finalFare"])


@dataclass
class CanceledRide:
    id: str
    rider: dict
    rider_user: dict
    driver: DriverHandle
    fee: float


async def canceled_with_fee(app, client: httpx.AsyncClient) -> CanceledRide:
    """A ride its passenger canceled once the driver was at the pickup: the fee is due (5.00 by default)."""
    admin_headers = await admin(app, client)
    # Each new driver a little nearer than the last: a test that completes several rides keeps the earlier
    # drivers online at the pickup, and at one distance the offer could go to any of them.
    near = await driver(client, admin_headers, at=(PAULISTA[0] + 0.001 / next(_NEARER), PAULISTA[1]))
    rider_user, rider = await passenger(client)
    ride = (await request_ride(client, rider)).json()
    assert (await accept(client, near, ride["id"])).status_code == 200
    assert (await client.post(f"/rides/{ride['id']}/arrived", headers=near.headers)).status_code == 200
    canceled = await client.post(f"/rides/{ride['id']}/cancel", json={"reason": "late"}, headers=rider)
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "CANCELED"
    return CanceledRide(ride["id"], rider, rider_user, near, canceled.json()["cancellationFee"])


async def run_charge_jobs(app) -> list[str]:
    """Run every charge job deferred so far inline, as a worker would (a job already run is a no-op)."""
    async with app.state.db.engine.connect() as conn:
        jobs = (
            await conn.execute(
                text(
                    "SELECT id, args ->> 'intent_id' FROM procrastinate_jobs"
                    " WHERE task_name = 'mobility.payments.create_charge' ORDER BY id"
                )
            )
        ).all()
    outcomes = []
    with bind_runtime(JobRuntime(db=app.state.db, settings=app.state.settings)):
        for _job_id, intent_id in jobs:
            outcomes.append(await charge(intent_id))
    return outcomes


async def rows(app, sql: str, **params) -> list:
    async with app.state.db.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql), params)).all()]


async def balances(app) -> dict[str, int]:
    """Every ledger account touched by ride payments: code -> credits minus debits (cents)."""
    found = await rows(
        app,
        "SELECT a.code, coalesce(sum(CASE e.direction WHEN 'C' THEN e.amount ELSE -e.amount END), 0)"
        " FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id"
        " WHERE a.code IN ('1300', '4100', '4200') OR a.code LIKE '2100.%' GROUP BY a.code",
    )
    return {code: int(total) for code, total in found}


async def open_account(app, user_id: str, funds: Decimal) -> None:
    """Give a passenger's user a checking account holding `funds` (registration opens one only for
    customers), funded from equity (3100)."""
    async with app.state.db.unit_of_work() as session:
        await open_checking_account(session, uuid.UUID(user_id), "Passageira")
        await fund_customer(session, uuid.UUID(user_id), funds, reference=f"funding:{user_id}")
