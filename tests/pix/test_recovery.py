"""Recovery after a crash: a starting worker reads back every send still PROCESSING at once, and a send
left PROCESSING past its short grace is rechecked every minute, resubmitted under its own idEnvio."""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy import text

from laura.core.db import Database
from laura.core.jobs import JobRuntime, app, bind_runtime
from laura.pix.models import PixSend
from laura.pix.service import send_pix
from laura.pix.tasks import recheck_sends_job
from laura.settings import Settings
from tests.jobs_support import running_worker

from .conftest import SEND_PURPOSE, new_charge, rows, scalar

PAYEE = "driver@example.com"


async def record_send(db: Database, amount: str = "80.00") -> PixSend:
    async with db.unit_of_work() as session:
        return await send_pix(
            session, purpose=SEND_PURPOSE, entity_id="payout-1", amount=Decimal(amount), payee_key=PAYEE
        )


async def leave_submit_job_with_a_dead_worker(db: Database) -> None:
    """What `kill -9` of a worker leaves: its submit job `doing`, owned by a worker whose last heartbeat is
    recent, so the queue does not see the job as stalled yet (that takes 30 s and a periodic run)."""
    async with db.engine.begin() as conn:
        worker_id = await conn.scalar(text("INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id"))
        await conn.execute(
            text(
                "UPDATE procrastinate_jobs SET status = 'doing', worker_id = :worker"
                " WHERE task_name = 'pix.submit_send'"
            ),
            {"worker": worker_id},
        )


async def psp_puts(control: httpx.AsyncClient, id_envio: str) -> int:
    requests = (await control.get("/sandbox/stats")).json()["requests"]
    return int(requests.get(f"PUT /v3/gn/pix/{id_envio}", 0))


async def test_a_starting_worker_submits_a_send_whose_job_died_with_the_previous_worker(
    db: Database, settings: Settings, control: httpx.AsyncClient, webhook_registered: str
) -> None:
    send = await record_send(db)
    await leave_submit_job_with_a_dead_worker(db)
    only_the_startup_pass = settings.model_copy(update={"pix_send_recheck_grace_seconds": 3600})

    async with running_worker(only_the_startup_pass, startup_tasks=True) as worker:
        await worker.until(lambda: scalar(db, "SELECT status = 'DONE' FROM pix_sends"))

    assert await rows(db, "SELECT kind, ref FROM pix_test_effects") == [("sent", send.id_envio)]
    assert await psp_puts(control, send.id_envio) == 1
    assert (
        await scalar(
            db, "SELECT status::text FROM procrastinate_jobs WHERE task_name = 'pix.reconcile_at_start'"
        )
        == "succeeded"
    )


async def test_workers_started_without_startup_tasks_leave_such_a_send_alone(
    db: Database, settings: Settings, control: httpx.AsyncClient
) -> None:
    """The counterpart of the test above: without the startup pass, nothing reaches the PSP."""
    send = await record_send(db)
    await leave_submit_job_with_a_dead_worker(db)

    async with running_worker(settings, wait=False) as worker:
        await worker.task

    assert await psp_puts(control, send.id_envio) == 0
    assert await scalar(db, "SELECT status FROM pix_sends") == "PROCESSING"


def test_stale_sends_are_rechecked_every_minute_by_default() -> None:
    periodic = app.periodic_registry.periodic_tasks[("pix.recheck_sends", "pix-recheck-sends")]

    assert periodic.cron == "* * * * *"
    assert Settings(_env_file=None).pix_send_recheck_grace_seconds == 30


async def test_the_recheck_resubmits_stale_sends_only_and_leaves_charges_to_reconciliation(
    db: Database, psp, owner, settings: Settings, control: httpx.AsyncClient
) -> None:
    stale = await record_send(db, "10.00")
    fresh = await record_send(db, "20.00")
    await new_charge(db, psp, owner)
    async with db.engine.begin() as conn:
        await conn.execute(
            text("UPDATE pix_sends SET created_at = now() - interval '31 seconds' WHERE id_envio = :id"),
            {"id": stale.id_envio},
        )
        await conn.execute(text("UPDATE pix_charges SET created_at = now() - interval '1 hour'"))
    (
        await control.post("/sandbox/cob/" + await scalar(db, "SELECT txid FROM pix_charges") + "/pay")
    ).raise_for_status()

    with bind_runtime(JobRuntime(db=db, settings=settings)):
        await recheck_sends_job(timestamp=0)

    assert await psp_puts(control, stale.id_envio) == 1
    assert await psp_puts(control, fresh.id_envio) == 0
    assert await scalar(db, "SELECT status FROM pix_charges") == "ACTIVE"
