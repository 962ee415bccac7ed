"""Jobs on Procrastinate: enqueued in the caller's transaction, run by a real worker in one unit of work,
retried with backoff, kept as failed when retries run out, and deferred on a cron schedule."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from procrastinate.exceptions import AlreadyEnqueued
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import Database
from laura.core.idempotency import purge_expired
from laura.core.jobs import (
    JobRuntime,
    Retry,
    TaskNotFound,
    app,
    bind_runtime,
    connector_for,
    defer,
    job_task,
    retry_stalled_jobs,
)
from tests.jobs_support import job_row, job_status, running_worker


@job_task(name="tests.jobs.record_effect")
async def record_effect(session: AsyncSession, *, key: str) -> None:
    await session.execute(text("INSERT INTO job_effects (key) VALUES (:key)"), {"key": key})


@job_task(name="tests.jobs.always_fails", retry=Retry(max_attempts=2, backoff_seconds=0.05))
async def always_fails(session: AsyncSession, *, key: str) -> None:
    await session.execute(text("INSERT INTO job_effects (key) VALUES (:key)"), {"key": key})
    raise RuntimeError(f"PSP unavailable for {key}")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    async with database.unit_of_work() as session:
        await session.execute(text("CREATE TABLE job_effects (key text PRIMARY KEY)"))
    yield database
    await database.dispose()


async def effect_exists(db: Database, key: str) -> bool:
    async with db.engine.connect() as conn:
        return bool(
            await conn.scalar(text("SELECT count(*) FROM job_effects WHERE key = :key"), {"key": key})
        )


def counter(task: str, status: str) -> float:
    return REGISTRY.get_sample_value("jobs_total", {"task": task, "status": status}) or 0.0


async def test_job_deferred_in_a_rolled_back_transaction_never_exists_nor_runs(db, settings):
    async with db.sessionmaker() as session:
        dropped_id = await defer(session, record_effect, args={"key": "rolled-back"})
        await session.rollback()
    async with db.unit_of_work() as session:
        kept_id = await defer(session, "tests.jobs.record_effect", args={"key": "committed"})

    async with running_worker(settings) as worker:
        await worker.until(lambda: _is(db, kept_id, "succeeded"))

    assert await job_row(db, dropped_id) is None
    assert not await effect_exists(db, "rolled-back")
    assert await effect_exists(db, "committed")


async def test_job_deferred_in_a_committed_transaction_runs_and_its_work_commits(db, settings):
    async with db.unit_of_work() as session:
        await session.execute(text("INSERT INTO job_effects (key) VALUES ('business-change')"))
        job_id = await defer(session, record_effect, args={"key": "job-effect"})
    before = counter("tests.jobs.record_effect", "done")

    async with running_worker(settings) as worker:
        await worker.until(lambda: _is(db, job_id, "succeeded"))

    row = await job_row(db, job_id)
    assert (row.task_name, row.args, row.attempts) == ("tests.jobs.record_effect", {"key": "job-effect"}, 1)
    assert await effect_exists(db, "job-effect")
    assert counter("tests.jobs.record_effect", "done") == before + 1


async def test_failing_job_retries_with_backoff_then_stays_failed_and_its_work_rolls_back(db, settings):
    async with db.unit_of_work() as session:
        job_id = await defer(session, always_fails, args={"key": "doomed"})
    retried, failed = (
        counter("tests.jobs.always_fails", "retried"),
        counter("tests.jobs.always_fails", "failed"),
    )

    async with running_worker(settings) as worker:
        await worker.until(lambda: _is(db, job_id, "failed"))

    async with db.engine.connect() as conn:
        events = (
            await conn.scalars(
                text("SELECT type::text FROM procrastinate_events WHERE job_id = :id ORDER BY id"),
                {"id": job_id},
            )
        ).all()
        error = (
            await conn.execute(
                text("SELECT attempt, error FROM job_errors WHERE job_id = :id"), {"id": job_id}
            )
        ).one()
    assert events.count("deferred_for_retry") == 2
    assert events.count("scheduled") == 2
    assert events[-1] == "failed"
    assert (await job_row(db, job_id)).attempts == 3
    assert error.attempt == 3
    assert error.error == "RuntimeError: PSP unavailable for doomed"
    assert not await effect_exists(db, "doomed")
    assert counter("tests.jobs.always_fails", "retried") == retried + 2
    assert counter("tests.jobs.always_fails", "failed") == failed + 1


def test_retry_waits_grow_exponentially_up_to_the_cap_and_stop_after_max_attempts():
    policy = Retry(max_attempts=6, backoff_seconds=2, max_backoff_seconds=20, give_up_on=(ValueError,))
    assert [policy.delay(n) for n in range(6)] == [2, 4, 8, 16, 20, 20]
    job = SimpleNamespace(attempts=5)
    assert policy.get_retry_decision(exception=RuntimeError(), job=job) is not None
    assert policy.get_retry_decision(exception=ValueError(), job=job) is None
    assert policy.get_retry_decision(exception=RuntimeError(), job=SimpleNamespace(attempts=6)) is None


async def test_queueing_lock_refuses_a_second_waiting_job_and_keeps_the_transaction(db):
    async with db.unit_of_work() as session:
        await defer(session, record_effect, args={"key": "a"}, queueing_lock="settle:42")
        with pytest.raises(AlreadyEnqueued):
            await defer(session, record_effect, args={"key": "b"}, queueing_lock="settle:42")
        other = await defer(session, record_effect, args={"key": "c"})
    assert await job_status(db, other) == "todo"


async def test_concurrent_defers_with_one_queueing_lock_leave_one_job(db):
    """The second transaction waits on the first's uncommitted row; once it commits, the second is refused
    and still commits its own business change."""
    first_deferred = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> int:
        async with db.unit_of_work() as session:
            job_id = await defer(session, record_effect, args={"key": "first"}, queueing_lock="payout:7")
            first_deferred.set()
            await release_first.wait()
            return job_id

    async def second() -> str:
        await first_deferred.wait()
        async with db.unit_of_work() as session:
            await session.execute(text("INSERT INTO job_effects (key) VALUES ('second-business-change')"))
            try:
                await defer(session, record_effect, args={"key": "second"}, queueing_lock="payout:7")
            except AlreadyEnqueued:
                return "refused"
            return "deferred"

    first_task, second_task = asyncio.create_task(first()), asyncio.create_task(second())
    await first_deferred.wait()
    await asyncio.sleep(0.2)
    assert not second_task.done()
    release_first.set()
    first_id, outcome = await asyncio.gather(first_task, second_task)

    assert outcome == "refused"
    assert await job_status(db, first_id) == "todo"
    assert await effect_exists(db, "second-business-change")
    async with db.engine.connect() as conn:
        assert (
            await conn.scalar(
                text("SELECT count(*) FROM procrastinate_jobs WHERE queueing_lock = 'payout:7'")
            )
            == 1
        )


async def test_unknown_task_name_is_refused_at_defer(db):
    async with db.sessionmaker() as session:
        with pytest.raises(TaskNotFound):
            await defer(session, "tests.jobs.no_such_task", args={})


async def test_options_are_stored_on_the_job(db):
    later = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    async with db.unit_of_work() as session:
        job_id = await defer(
            session, record_effect, args={"key": "later"}, queue="slow", priority=5, schedule_at=later
        )
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT queue_name, priority, scheduled_at FROM procrastinate_jobs WHERE id = :id"),
                {"id": job_id},
            )
        ).one()
    assert (row.queue_name, row.priority, row.scheduled_at) == ("slow", 5, later)


async def test_task_body_runs_inline_with_a_bound_runtime(db):
    with bind_runtime(JobRuntime(db=db)):
        await record_effect(key="inline")
    assert await effect_exists(db, "inline")


@pytest.fixture
def every_second_task() -> Iterator[str]:
    """A periodic task registered for one test only (the app is process-wide)."""
    name = "tests.jobs.every_second"

    @app.periodic(cron="* * * * * *", periodic_id="test")
    @job_task(name=name)
    async def tick(session: AsyncSession, *, timestamp: int) -> None:
        await session.execute(
            text("INSERT INTO job_effects (key) VALUES (:key)"), {"key": f"tick-{timestamp}"}
        )

    yield name
    app.periodic_registry.periodic_tasks.pop((name, "test"))
    app.tasks.pop(name)


def test_the_housekeeping_schedules_are_registered():
    registered = app.periodic_registry.periodic_tasks
    assert registered[("core.prune_finished_jobs", "daily")].cron == "17 4 * * *"
    assert registered[("core.retry_stalled_jobs", "every-5-minutes")].cron == "*/5 * * * *"


async def test_a_job_left_doing_by_a_dead_worker_is_requeued_and_runs(db, settings, database_url):
    async with db.unit_of_work() as session:
        job_id = await defer(session, record_effect, args={"key": "survivor"})
        await session.execute(
            text("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = :id"), {"id": job_id}
        )

    with app.replace_connector(connector_for(database_url)):
        async with app.open_async():
            await retry_stalled_jobs(timestamp=0)
    assert await job_status(db, job_id) == "todo"

    async with running_worker(settings) as worker:
        await worker.until(lambda: _is(db, job_id, "succeeded"))
    assert await effect_exists(db, "survivor")


async def test_periodic_task_is_deferred_by_the_worker_and_runs(db, settings, every_second_task):
    async def ticked() -> bool:
        async with db.engine.connect() as conn:
            return bool(await conn.scalar(text("SELECT count(*) FROM job_effects WHERE key LIKE 'tick-%'")))

    async with running_worker(settings) as worker:
        await worker.until(ticked)

    async with db.engine.connect() as conn:
        deferred = await conn.scalar(
            text("SELECT count(*) FROM procrastinate_periodic_defers WHERE task_name = :name"),
            {"name": every_second_task},
        )
    assert deferred >= 1


async def _is(db: Database, job_id: int, status: str) -> bool:
    return await job_status(db, job_id) == status


async def test_expired_idempotency_keys_are_purged_and_live_ones_kept(db):
    now = datetime.now(UTC)
    async with db.unit_of_work() as session:
        await session.execute(
            text(
                "INSERT INTO idempotency_keys (owner, key, request_hash, status, response_status, response_body,"
                " locked_until, expires_at) SELECT 'purge-test', 'k' || n, 'h', 'completed', 201, '{}', :now,"
                " CASE WHEN n <= 25 THEN CAST(:past AS timestamptz) ELSE CAST(:future AS timestamptz) END"
                " FROM generate_series(1, 40) AS n"
            ),
            {"now": now, "past": now - timedelta(seconds=1), "future": now + timedelta(hours=1)},
        )
    assert await purge_expired(db, now=now, batch=10) == 25
    async with db.engine.connect() as conn:
        left = await conn.scalar(text("SELECT count(*) FROM idempotency_keys WHERE owner = 'purge-test'"))
    assert left == 15
    assert (
        app.periodic_registry.periodic_tasks[("core.purge_idempotency_keys", "hourly")].cron == "23 * * * *"
    )
