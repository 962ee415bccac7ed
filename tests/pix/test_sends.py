"""Sending Pix: recorded and enqueued in the caller's transaction, submitted by the job, settled once by the
PSP's webhook or by reconciliation, through the purpose's handlers."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text

from laura.core.db import Database
from laura.core.jobs import JobRuntime, bind_runtime
from laura.pix.errors import InvalidPixKey
from laura.pix.models import PixSend
from laura.pix.service import send_pix
from laura.pix.tasks import reconcile, submit_send_job
from laura.settings import Settings

from .conftest import PIX_KEY, SEND_PURPOSE, rows, scalar
from .sandbox.fixtures import wait_until

PAYEE = "driver@example.com"


async def record_send(db: Database, amount: str = "80.00", payee: str = PAYEE) -> PixSend:
    async with db.unit_of_work() as session:
        return await send_pix(
            session,
            purpose=SEND_PURPOSE,
            entity_id="payout-1",
            amount=Decimal(amount),
            payee_key=payee,
            description="Repasse",
        )


async def submit(db: Database, settings: Settings, send: PixSend) -> None:
    """Run the enqueued `pix.submit_send` job body inline, as a worker would."""
    with bind_runtime(JobRuntime(db=db, settings=settings)):
        await submit_send_job(id_envio=send.id_envio)


async def run_reconcile(db: Database, psp):  # type: ignore[no-untyped-def]
    return await reconcile(db, psp, payer_key=PIX_KEY, grace_seconds=0, batch_size=100)


async def test_a_send_is_recorded_with_its_job_in_the_callers_transaction(db: Database) -> None:
    send = await record_send(db)

    assert await rows(db, "SELECT status, amount_cents, payee_key, submitted_at FROM pix_sends") == [
        ("PROCESSING", 8000, PAYEE, None)
    ]
    jobs = await rows(
        db, "SELECT task_name, args FROM procrastinate_jobs WHERE task_name = 'pix.submit_send'"
    )
    assert jobs == [("pix.submit_send", {"id_envio": send.id_envio})]


async def test_a_rolled_back_send_leaves_no_row_and_no_job(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.unit_of_work() as session:
            await send_pix(
                session, purpose=SEND_PURPOSE, entity_id="x", amount=Decimal("1.00"), payee_key=PAYEE
            )
            raise RuntimeError("the caller failed after send_pix")

    assert await scalar(db, "SELECT count(*) FROM pix_sends") == 0
    assert (
        await scalar(db, "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'pix.submit_send'") == 0
    )


async def test_an_invalid_payee_key_is_refused_before_anything_is_written(db: Database) -> None:
    with pytest.raises(InvalidPixKey):
        await record_send(db, payee="not a key")


async def test_a_failing_send_calls_on_failed_once(
    db: Database, psp, settings: Settings, control: httpx.AsyncClient, webhook_registered: str
) -> None:
    (await control.post("/sandbox/faults", json={"send_fail_key": PAYEE})).raise_for_status()
    send = await record_send(db)

    await submit(db, settings, send)
    await wait_until(lambda: scalar(db, "SELECT count(*) FROM pix_test_effects"))
    await submit(db, settings, send)
    report = await run_reconcile(db, psp)

    assert await rows(db, "SELECT kind, ref, amount_cents FROM pix_test_effects") == [
        ("failed", send.id_envio, 8000)
    ]
    row = (await rows(db, "SELECT status, error, e2e_id, submitted_at, settled_at FROM pix_sends"))[0]
    assert row.status == "FAILED" and row.error and row.e2e_id and row.submitted_at and row.settled_at
    assert await rows(db, "SELECT kind, status, source, id_envio FROM financial_events") == [
        ("pix.sent", "applied", "webhook", send.id_envio)
    ]
    assert report.sends == {}


async def test_a_stuck_send_is_settled_by_reconciliation_once_the_psp_settles_it(
    db: Database, psp, settings: Settings, control: httpx.AsyncClient, webhook_registered: str
) -> None:
    (await control.post("/sandbox/faults", json={"send_stuck": True})).raise_for_status()
    send = await record_send(db)
    await submit(db, settings, send)

    still = await run_reconcile(db, psp)
    (await control.post("/sandbox/faults", json={"webhook": "drop"})).raise_for_status()
    (
        await control.post(f"/sandbox/pix/{send.id_envio}/settle", json={"status": "REALIZADO"})
    ).raise_for_status()
    settled = await run_reconcile(db, psp)
    again = await run_reconcile(db, psp)

    assert still.sends == {"pending": 1}
    assert settled.sends == {"applied": 1}
    assert again.sends == {}
    assert await rows(db, "SELECT kind, ref FROM pix_test_effects") == [("sent", send.id_envio)]
    assert await rows(db, "SELECT status, error FROM pix_sends") == [("DONE", None)]
    assert await rows(db, "SELECT source FROM financial_events") == [("reconciliation",)]


async def test_a_send_the_psp_never_received_is_submitted_by_reconciliation(
    db: Database, psp, control: httpx.AsyncClient, api_token: str
) -> None:
    send = await record_send(db)

    first = await run_reconcile(db, psp)
    await wait_until(lambda: _psp_status(control, api_token, send.id_envio, "REALIZADO"))
    second = await run_reconcile(db, psp)

    assert first.sends == {"resubmitted": 1}
    assert second.sends == {"applied": 1}
    assert await rows(db, "SELECT kind, ref FROM pix_test_effects") == [("sent", send.id_envio)]


async def _psp_status(control: httpx.AsyncClient, token: str, id_envio: str, status: str) -> bool:
    response = await control.get(
        f"/v2/gn/pix/enviados/id-envio/{id_envio}", headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code == 200 and response.json()["status"] == status


async def test_the_send_webhook_delivered_many_times_settles_once(
    db: Database, psp, settings: Settings, control: httpx.AsyncClient, webhook_registered: str
) -> None:
    (await control.post("/sandbox/faults", json={"webhook": "duplicate", "copies": 5})).raise_for_status()
    send = await record_send(db)

    await submit(db, settings, send)
    await wait_until(lambda: scalar(db, "SELECT count(*) FROM pix_test_effects"))
    await wait_until(lambda: _all_delivered(control, 5))

    assert await rows(db, "SELECT kind FROM pix_test_effects") == [("sent",)]
    async with db.engine.connect() as conn:
        assert await conn.scalar(text("SELECT status FROM pix_sends")) == "DONE"


async def _all_delivered(control: httpx.AsyncClient, copies: int) -> bool:
    log = (await control.get("/sandbox/webhooks")).json()["deliveries"]
    return len([d for d in log if d["outcome"] == "delivered"]) == copies
