"""The task queue: Procrastinate on the same PostgreSQL, with jobs enqueued inside the caller's transaction.

Features declare tasks in their own `tasks.py` with `@job_task(name=...)` (the body gets a unit of work,
like a request) and periodic ones with `@app.periodic(cron=...)` stacked on top; the composition root
(`laura.app.TASK_MODULES`) hands those modules to `register_task_modules`, so every worker (and `defer`)
knows them while core names none. Services enqueue with
`await defer(session, "bank.settle_ted", args={...})`: the job row is written by the session's own
transaction, so a rollback drops the job and a commit makes it visible to the workers.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from procrastinate import App, BaseRetryStrategy, PsycopgConnector, RetryDecision
from procrastinate.exceptions import AlreadyEnqueued, TaskNotFound
from procrastinate.jobs import DEFAULT_QUEUE, Job
from procrastinate.tasks import Task
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import Database, plain_url
from laura.core.events import partitions as outbox_partitions
from laura.core.idempotency import purge_expired
from laura.core.tracing import with_trace_context
from laura.settings import Settings, get_settings

__all__ = [
    "AlreadyEnqueued",
    "JobRuntime",
    "Retry",
    "TaskNotFound",
    "app",
    "at_worker_start",
    "bind_runtime",
    "connector_for",
    "current_runtime",
    "defer",
    "defer_startup_tasks",
    "import_task_modules",
    "job_task",
    "register_task_modules",
]

AnyTask = Task[..., Any, Any]
"""A task of any signature (what the registry and `defer` handle)."""

JOB_RETENTION_HOURS = 7 * 24
"""Succeeded jobs are pruned this long after they finished; failed ones stay until retried."""

app = App(connector=PsycopgConnector())
"""The one Procrastinate app; `run_worker` swaps in a connector for the configured database."""


_STARTUP_TASKS: list[AnyTask] = []
_task_modules: list[str] = []


def register_task_modules(modules: Iterable[str]) -> None:
    """Make the modules (dotted paths) that declare tasks known to workers and `defer`; they are imported
    on the first need, not here, so registering costs nothing. Registering a module again is a no-op."""
    _task_modules.extend(module for module in modules if module not in _task_modules)


def at_worker_start(task: AnyTask) -> AnyTask:
    """Have every worker enqueue `task` (it takes no arguments) as it starts: the catch-up a crash calls
    for, such as work whose job died with the previous worker. Give the task a `queueing_lock`, so
    workers starting together queue it once."""
    _STARTUP_TASKS.append(task)
    return task


async def defer_startup_tasks() -> list[int]:
    """Enqueue every `at_worker_start` task (one already waiting is left alone); returns the new job ids."""
    job_ids = []
    for task in _STARTUP_TASKS:
        try:
            job_ids.append(await task.defer_async())
        except AlreadyEnqueued:
            continue
    return job_ids


def connector_for(database_url: str, *, max_size: int = 4) -> PsycopgConnector:
    """A psycopg pool on the same database as SQLAlchemy (libpq URL form)."""
    return PsycopgConnector(conninfo=plain_url(database_url), min_size=1, max_size=max_size)


def import_task_modules() -> None:
    """Import every registered module, so each task (and periodic schedule) is registered in `app`."""
    for module in _task_modules:
        importlib.import_module(module)


@dataclass(frozen=True)
class JobRuntime:
    """What a running job needs from its worker: the database, and the settings it was started with (the
    process's environment when none are given, as for a test that runs a task inline)."""

    db: Database
    settings: Settings = field(default_factory=get_settings)
    retry_scale: float = 1.0
    """Multiplies every retry wait (tests shrink it; production keeps 1)."""


_runtime: ContextVar[JobRuntime | None] = ContextVar("laura_job_runtime", default=None)


@contextmanager
def bind_runtime(runtime: JobRuntime) -> Iterator[JobRuntime]:
    """Make `runtime` the one job bodies use in this context (the worker, or a test running a task inline)."""
    token = _runtime.set(runtime)
    try:
        yield runtime
    finally:
        _runtime.reset(token)


def current_runtime() -> JobRuntime:
    """The worker's runtime; a task run outside a worker or `bind_runtime` is a programming error."""
    runtime = _runtime.get()
    if runtime is None:
        raise RuntimeError("no job runtime: run tasks in a worker (run_worker) or inside bind_runtime(...)")
    return runtime


@dataclass(frozen=True, kw_only=True)
class Retry(BaseRetryStrategy):
    """Exponential backoff: wait `backoff_seconds * 2**attempts`, capped at `max_backoff_seconds`, and
    give up (status `failed`) after `max_attempts` retries or on an exception listed in `give_up_on`."""

    max_attempts: int = 5
    backoff_seconds: float = 2.0
    max_backoff_seconds: float = 3600.0
    give_up_on: tuple[type[BaseException], ...] = ()

    def delay(self, attempts: int) -> float:
        """Seconds to wait before the retry that follows `attempts` failed runs."""
        return min(self.max_backoff_seconds, self.backoff_seconds * 2.0**attempts)

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if job.attempts >= self.max_attempts or isinstance(exception, self.give_up_on):
            return None
        runtime = _runtime.get()
        scale = runtime.retry_scale if runtime else 1.0
        return RetryDecision(retry_in={"microseconds": round(self.delay(job.attempts) * scale * 1e6)})


JobBody = Callable[..., Awaitable[Any]]


def job_task(
    *,
    name: str,
    queue: str = DEFAULT_QUEUE,
    retry: BaseRetryStrategy | int | None = None,
    priority: int = 0,
    lock: str | None = None,
    queueing_lock: str | None = None,
) -> Callable[[JobBody], AnyTask]:
    """Register `body(session, **args)` as task `name`: it runs in one unit of work on the worker's
    database, committed when it returns and rolled back when it raises (then `retry` decides)."""

    def decorate(body: JobBody) -> AnyTask:
        @functools.wraps(body)
        async def run(**kwargs: Any) -> Any:
            async with current_runtime().db.unit_of_work() as session:
                return await body(session, **kwargs)

        return app.task(
            name=name,
            queue=queue,
            retry=retry or False,
            priority=priority,
            lock=lock,
            queueing_lock=queueing_lock,
        )(run)

    return decorate


_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW("
    " CAST(:queue AS varchar), CAST(:task AS varchar), CAST(:priority AS integer), CAST(:lock AS text),"
    " CAST(:queueing_lock AS text), CAST(:args AS jsonb), CAST(:scheduled_at AS timestamptz)"
    ")::procrastinate_job_to_defer_v1]))"
)


def _task_named(task: str | AnyTask) -> AnyTask:
    if isinstance(task, Task):
        return task
    import_task_modules()
    found = app.tasks.get(task)
    if found is None:
        raise TaskNotFound(f"no task named {task!r}: is its module in register_task_modules(...)?")
    return found


async def defer(
    session: AsyncSession,
    task: str | AnyTask,
    *,
    args: dict[str, Any] | None = None,
    queue: str | None = None,
    schedule_at: datetime | None = None,
    lock: str | None = None,
    queueing_lock: str | None = None,
    priority: int | None = None,
) -> int:
    """Enqueue a job in the session's transaction and return its id: it exists once the caller commits,
    never if it rolls back. `args` must be JSON (ids as strings; never secrets). Unset options take the
    task's defaults. A `queueing_lock` already held by a waiting job raises `AlreadyEnqueued` and leaves
    the transaction usable."""
    target = _task_named(task)
    params = {
        "queue": queue or target.queue,
        "task": target.name,
        "priority": target.priority if priority is None else priority,
        "lock": lock or target.lock,
        "queueing_lock": queueing_lock or target.queueing_lock,
        "args": json.dumps(with_trace_context(args or {})),
        "scheduled_at": schedule_at,
    }
    job_id: int
    if params["queueing_lock"] is None:
        job_id = (await session.execute(_DEFER, params)).scalar_one()
        return job_id
    try:
        async with session.begin_nested():
            job_id = (await session.execute(_DEFER, params)).scalar_one()
            return job_id
    except IntegrityError as exc:
        raise AlreadyEnqueued(
            f"a job with queueing lock {params['queueing_lock']!r} is already waiting"
        ) from exc


@app.periodic(cron="17 4 * * *", periodic_id="daily")
@app.task(name="core.prune_finished_jobs")
async def prune_finished_jobs(timestamp: int) -> None:
    """Keep the queue table small: drop succeeded jobs (and their events) a week after they finished."""
    await app.job_manager.delete_old_jobs(nb_hours=JOB_RETENTION_HOURS)


@app.periodic(cron="23 * * * *", periodic_id="hourly")
@app.task(name="core.purge_idempotency_keys", queueing_lock="core.purge_idempotency_keys")
async def purge_idempotency_keys(timestamp: int) -> int:
    """Keep `idempotency_keys` to about a day of answers: drop the expired ones every hour."""
    return await purge_expired(current_runtime().db, now=datetime.now(UTC))


@app.periodic(cron="*/5 * * * *", periodic_id="every-5-minutes")
@app.task(name="core.retry_stalled_jobs", queueing_lock="core.retry_stalled_jobs")
async def retry_stalled_jobs(timestamp: int) -> None:
    """Put back to `todo` the jobs left `doing` by a worker that died (no heartbeat for 30 s), so a
    crash delays a job instead of losing it (bodies are idempotent)."""
    for job in await app.job_manager.get_stalled_jobs():
        await app.job_manager.retry_job(job)


@app.periodic(cron="53 2 * * *", periodic_id="daily-outbox-partitions")
@job_task(name="core.outbox_partitions", queueing_lock="core.outbox_partitions")
async def outbox_partitions_job(session: AsyncSession, *, timestamp: int) -> dict[str, object]:
    """Daily: the outbox's next months exist and months past `LAURA_EVENTS_RETENTION_DAYS` are dropped."""
    return await outbox_partitions.maintain(
        session, now=datetime.now(UTC), retention_days=current_runtime().settings.events_retention_days
    )
