"""The job worker: runs every feature's tasks against the configured database until stopped.

`laura worker` runs it alone (scale out by starting more, anywhere); `laura up` runs it in-process next
to the API. Each job's body gets its own unit of work (see `job_task`); a middleware around every job
counts outcomes and keeps the last error where the admin list shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog
from procrastinate.job_context import JobContext
from procrastinate.worker import Worker
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from laura.core.cancellation import stop_if_cancelled
from laura.core.db import Database
from laura.core.error_reporting import report_exception, start_error_reporting
from laura.core.events.runtime import relaying
from laura.core.job_metrics import JOBS_TOTAL
from laura.core.jobs import (
    JobRuntime,
    app,
    bind_runtime,
    connector_for,
    current_runtime,
    defer_startup_tasks,
    import_task_modules,
)
from laura.core.tracing import job_span, start_tracing
from laura.settings import Settings

_log = structlog.get_logger("laura.jobs")

_RECORD_ERROR = text(
    "INSERT INTO job_errors (job_id, attempt, error, occurred_at) VALUES (:job_id, :attempt, :error, now())"
    " ON CONFLICT (job_id) DO UPDATE"
    " SET attempt = EXCLUDED.attempt, error = EXCLUDED.error, occurred_at = EXCLUDED.occurred_at"
)
_ERROR_MAX_CHARS = 2000


async def _record_error(job_id: int, attempt: int, exc: BaseException) -> None:
    """Keep the last error of a job (its own short transaction: the job's unit of work rolled back)."""
    try:
        async with current_runtime().db.unit_of_work() as session:
            await session.execute(
                _RECORD_ERROR,
                {
                    "job_id": job_id,
                    "attempt": attempt,
                    "error": f"{type(exc).__name__}: {exc}"[:_ERROR_MAX_CHARS],
                },
            )
    except SQLAlchemyError as record_exc:
        _log.warning("job_error_not_recorded", job_id=job_id, error=type(record_exc).__name__)


async def observe_job(call_next: Callable[[], Awaitable[Any]], context: JobContext, worker: Worker) -> Any:
    """Worker middleware: log context, trace span, `jobs_total{task,status}` and the last error of every
    job; a job that failed for good is reported (Sentry, when on)."""
    job = context.job
    with structlog.contextvars.bound_contextvars(job_id=job.id, task=job.task_name), job_span(job):
        try:
            result = await call_next()
        except Exception as exc:
            task = worker.app.tasks.get(job.task_name)
            will_retry = task is not None and task.get_retry_exception(exception=exc, job=job) is not None
            JOBS_TOTAL.labels(job.task_name, "retried" if will_retry else "failed").inc()
            if job.id is not None:
                await _record_error(job.id, job.attempts + 1, exc)
            if not will_retry:
                report_exception(exc, task=job.task_name, job_id=str(job.id))
            raise
    JOBS_TOTAL.labels(job.task_name, "done").inc()
    return result


async def run_worker(
    settings: Settings,
    *,
    concurrency: int | None = None,
    queues: Iterable[str] | None = None,
    install_signal_handlers: bool = True,
    wait: bool = True,
    poll_interval: float = 5.0,
    retry_scale: float = 1.0,
    name: str = "laura-worker",
    startup_tasks: bool = False,
) -> None:
    """Run jobs until stopped (SIGINT/SIGTERM, or cancellation when signal handlers are off), finishing
    the running ones first. `wait=False` returns once the queues are empty. `poll_interval` bounds how
    late a scheduled job or retry starts; new jobs start at once through LISTEN/NOTIFY. `startup_tasks`
    (what `laura worker` and `laura up` set) first enqueues the features' `at_worker_start` tasks, the
    catch-up after a crash."""
    if not settings.database_url:
        raise RuntimeError("LAURA_DATABASE_URL is not set")
    import_task_modules()
    start_tracing(settings)
    start_error_reporting(settings)
    concurrency = concurrency or settings.worker_concurrency
    db = Database(
        settings.database_url, pool_size=concurrency + 1, max_overflow=concurrency, settings=settings
    )
    runtime = JobRuntime(db=db, settings=settings, retry_scale=retry_scale)
    try:
        with (
            bind_runtime(runtime),
            app.replace_connector(connector_for(settings.database_url, max_size=concurrency + 3)),
        ):
            async with relaying(settings), app.open_async():
                if startup_tasks:
                    await defer_startup_tasks()
                app.perform_import_paths()  # type: ignore[no-untyped-call]  # procrastinate's, untyped
                worker = Worker(
                    app=app,
                    name=name,
                    concurrency=concurrency,
                    # None is every queue (procrastinate's Worker and docs), though its WorkerOptions omit it
                    queues=list(queues) if queues else None,
                    wait=wait,
                    install_signal_handlers=install_signal_handlers,
                    fetch_job_polling_interval=poll_interval,
                    abort_job_polling_interval=poll_interval,
                    worker_middleware=[observe_job],
                )
                await _run_until_cancelled(worker)
    finally:
        await db.dispose()


async def _run_until_cancelled(worker: Worker) -> None:
    """Run `worker`; when this task is cancelled, stop it gracefully (its running jobs finish), then re-raise.

    procrastinate stops when `worker.run()` is cancelled, but a cancellation that lands in a driver call, in
    its first queries or in ours before it (the connector's pool opening), can be swallowed there: the
    worker then ran forever and whoever cancelled it (a test, `laura up` stopping) waited forever. So the
    run is a child task, a cancellation already pending is honoured before it starts, and our own
    cancellation becomes `worker.stop()`, asked again until the run ends: `run()` clears a stop requested
    before its first step.
    """
    stop_if_cancelled()
    run = asyncio.create_task(worker.run(), name="procrastinate-worker")  # type: ignore[no-untyped-call]
    try:
        await asyncio.shield(run)
    except asyncio.CancelledError:
        while not run.done():
            worker.stop()  # type: ignore[no-untyped-call]
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait({run}, timeout=1)
        if not run.cancelled():
            run.result()  # a failure of the worker's own, while it stopped, wins
        raise
