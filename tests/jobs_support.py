"""Test helpers for background jobs: a real worker running in-process, and bounded polling for outcomes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import text

from laura.core.db import Database
from laura.core.worker import run_worker
from laura.settings import Settings

T = TypeVar("T")

DEADLINE_SECONDS = 60.0


class RunningWorker:
    """A worker task started by `running_worker`; `until` polls a check while the worker runs."""

    def __init__(self, task: asyncio.Task) -> None:
        self.task = task

    async def until(self, check: Callable[[], Awaitable[T]], *, timeout: float = DEADLINE_SECONDS) -> T:
        """Poll `check` until it returns something truthy; fail if the worker dies or the deadline passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = await check()
            if result:
                return result
            if self.task.done():
                self.task.result()
                raise AssertionError("the worker stopped before the condition held")
            if loop.time() > deadline:
                raise AssertionError(f"condition still false after {timeout}s")
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running_worker(settings: Settings, **options: Any) -> AsyncIterator[RunningWorker]:
    """Run `run_worker` in the background (fast polling, no signal handlers); cancel it on exit, which
    lets the running jobs finish first."""
    options = {"install_signal_handlers": False, "poll_interval": 0.1, "concurrency": 2, **options}
    task = asyncio.create_task(run_worker(settings, **options))
    try:
        yield RunningWorker(task)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def job_row(db: Database, job_id: int) -> Any:
    """The job's row (id, task_name, status, attempts, args) or None."""
    async with db.engine.connect() as conn:
        return (
            await conn.execute(
                text(
                    "SELECT id, task_name, status::text AS status, attempts, args"
                    " FROM procrastinate_jobs WHERE id = :id"
                ),
                {"id": job_id},
            )
        ).first()


async def job_status(db: Database, job_id: int) -> str | None:
    row = await job_row(db, job_id)
    return row.status if row else None
