"""Charging an intent holds nothing while the PSP answers, and a charge the PSP will not make fails its
intent: the passenger is told and `POST /payments/intent` asks for a new one."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import httpx
from sqlalchemy import text

from laura.mobility.payments import service
from laura.mobility.payments.tasks import RETRY
from laura.pix.psp import Charge, EfiClient
from tests.jobs_support import running_worker
from tests.mobility.payments.support import completed_ride, rows, run_charge_jobs
from tests.pix.conftest import PIX_KEY, settings  # noqa: F401
from tests.pix.sandbox.fixtures import control, sandbox_server, sandbox_url, wait_until  # noqa: F401


class HeldPsp:
    """The app's PSP client, with charge creation held at a gate until the test opens it."""

    def __init__(self, inner: EfiClient) -> None:
        self.inner = inner
        self.reached = asyncio.Event()
        self.gate = asyncio.Event()

    async def create_charge(self, *args, **kwargs) -> Charge:  # type: ignore[no-untyped-def]
        self.reached.set()
        await self.gate.wait()
        return await self.inner.create_charge(*args, **kwargs)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)


async def nothing_held(app, ride_id: str) -> None:
    """The ride's row can be locked at once, and no connection sits in an open transaction over the ride,
    its intent or its charge. (Only those: the app's own background loops, the event relay's for one, may
    be caught between two statements of their own transactions on a loaded machine.)"""
    async with app.state.db.engine.connect() as conn:
        async with conn.begin():
            locked = await conn.execute(
                text("SELECT id FROM rides WHERE id = :r FOR UPDATE NOWAIT"), {"r": uuid.UUID(ride_id)}
            )
            assert locked.scalar_one() == uuid.UUID(ride_id)
        idle = await conn.scalar(
            text(
                "SELECT count(DISTINCT a.pid) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid"
                " WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()"
                " AND a.state LIKE 'idle in transaction%'"
                " AND l.relation IN ('rides'::regclass, 'payment_intents'::regclass, 'pix_charges'::regclass)"
            )
        )
        assert idle == 0


async def test_the_charge_job_holds_no_lock_nor_transaction_while_the_psp_answers(
    app, client: httpx.AsyncClient
) -> None:
    ride = await completed_ride(app, client)
    (intent_id,) = (await rows(app, "SELECT id FROM payment_intents"))[0]
    psp = HeldPsp(app.state.psp)

    job = asyncio.create_task(
        service.charge_intent(
            app.state.db, psp, intent_id=intent_id, now=datetime.now(UTC), pix_key=PIX_KEY, last_attempt=False
        )
    )
    await asyncio.wait_for(psp.reached.wait(), 30)
    await nothing_held(app, ride.id)
    psp.gate.set()

    assert await job == "charged"
    assert (await client.get(f"/rides/{ride.id}", headers=ride.rider)).json()["status"] == "PAYMENT_PENDING"
    assert await rows(app, "SELECT txid FROM payment_intents") == [(intent_id.hex,)]


async def test_asking_for_a_new_charge_holds_no_lock_nor_transaction_while_the_psp_answers(
    app, client: httpx.AsyncClient
) -> None:
    ride = await completed_ride(app, client)
    await run_charge_jobs(app)
    async with app.state.db.engine.begin() as conn:
        await conn.exec_driver_sql("UPDATE payment_intents SET expires_at = now() - interval '1 second'")
    real = app.state.psp
    app.state.psp = psp = HeldPsp(real)
    try:
        asked = asyncio.create_task(
            client.post("/payments/intent", json={"rideId": ride.id}, headers=ride.rider)
        )
        await asyncio.wait_for(psp.reached.wait(), 30)
        await nothing_held(app, ride.id)
        psp.gate.set()
        answer = await asked
    finally:
        app.state.psp = real

    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "PENDING" and answer.json()["chargeStatus"] == "ACTIVE"
    assert await rows(app, "SELECT status FROM payment_intents ORDER BY created_at") == [
        ("EXPIRED",),
        ("PENDING",),
    ]


async def test_concurrent_requests_for_a_new_charge_make_one_charge_at_the_psp(
    app, client: httpx.AsyncClient
) -> None:
    ride = await completed_ride(app, client)
    await run_charge_jobs(app)
    async with app.state.db.engine.begin() as conn:
        await conn.exec_driver_sql("UPDATE payment_intents SET expires_at = now() - interval '1 second'")

    answers = await asyncio.gather(
        *(client.post("/payments/intent", json={"rideId": ride.id}, headers=ride.rider) for _ in range(6))
    )

    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    txids = {a.json()["txid"] for a in answers}
    assert len(txids) == 1
    live = await rows(
        app,
        "SELECT c.txid FROM pix_charges c JOIN payment_intents i ON i.id::text = c.entity_id"
        " WHERE i.status = 'PENDING' AND c.status = 'ACTIVE'",
    )
    assert live == [(txids.pop(),)]
    assert await rows(app, "SELECT count(*) FROM pix_charges") == [(2,)]


async def test_a_charge_the_psp_refuses_fails_the_intent_and_a_new_one_can_be_asked_for(
    app,
    client: httpx.AsyncClient,
    settings,
) -> None:
    ride = await completed_ride(app, client)
    (intent_id,) = (await rows(app, "SELECT id FROM payment_intents"))[0]
    # The PSP already holds another charge under the intent's txid: it refuses ours (409), for good.
    await app.state.psp.create_charge(intent_id.hex, Decimal("1.00"), PIX_KEY, 60)

    async with running_worker(settings) as worker:
        await worker.until(
            lambda: rows(app, "SELECT 1 FROM payment_intents WHERE status = 'FAILED'"), timeout=60
        )

    assert await rows(app, "SELECT status, txid FROM payment_intents") == [("FAILED", None)]
    told = await rows(app, "SELECT data, user_ids FROM outbox WHERE type = 'payment.intent.failed'")
    assert len(told) == 1 and told[0][1] == [uuid.UUID(ride.rider_user["id"])]
    assert told[0][0]["rideId"] == ride.id and told[0][0]["reason"].startswith("psp_refused")
    assert (await client.get(f"/rides/{ride.id}", headers=ride.rider)).json()["status"] == "COMPLETED"
    failed = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()
    assert failed["status"] == "FAILED" and failed["txid"] is None

    fresh = await client.post("/payments/intent", json={"rideId": ride.id}, headers=ride.rider)
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["status"] == "PENDING" and fresh.json()["chargeStatus"] == "ACTIVE"
    assert await rows(app, "SELECT status FROM payment_intents ORDER BY created_at") == [
        ("FAILED",),
        ("PENDING",),
    ]
    assert (await client.get(f"/rides/{ride.id}", headers=ride.rider)).json()["status"] == "PAYMENT_PENDING"


async def test_a_psp_down_through_every_retry_fails_the_intent(
    app,
    client: httpx.AsyncClient,
    control: httpx.AsyncClient,
    settings,
) -> None:
    ride = await completed_ride(app, client)
    fault = {"http500": {"path_prefix": "/v2/cob", "count": 1000}}
    (await control.post("/sandbox/faults", json=fault)).raise_for_status()

    async with running_worker(settings, retry_scale=0.0005) as worker:
        await worker.until(
            lambda: rows(app, "SELECT 1 FROM payment_intents WHERE status = 'FAILED'"), timeout=60
        )

    job = await rows(
        app,
        "SELECT status::text, attempts FROM procrastinate_jobs WHERE task_name = :t",
        t=service.CHARGE_TASK,
    )
    assert job == [("succeeded", RETRY.max_attempts + 1)]  # the first run and every retry
    told = await rows(app, "SELECT data FROM outbox WHERE type = 'payment.intent.failed'")
    assert [t[0]["reason"] for t in told] == ["psp_unavailable"]
    assert (await client.get(f"/rides/{ride.id}", headers=ride.rider)).json()["status"] == "COMPLETED"
