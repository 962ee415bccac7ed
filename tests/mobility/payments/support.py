"""A ride driven to COMPLETED over HTTP, its charge job run inline, and readers for the books."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy import text

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


async def completed_ride(app, client: httpx.AsyncClient) -> CompletedRide:
    admin_headers = await admin(app, client)
    near = await driver(client, admin_headers, at=(PAULISTA[0] + 0.001, PAULISTA[1]))
    rider_user, rider = await passenger(client)
    ride = (await request_ride(client, rider)).json()
    assert (await accept(client, near, ride["id"])).status_code == 200
    for step in ("arrived", "start", "complete"):
        moved = await client.post(f"/rides/{ride['id']}/{step}", headers=near.headers)
        assert moved.status_code == 200, moved.text
    return CompletedRide(ride["id"], rider, rider_user, near, moved.json()["finalFare"])


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
