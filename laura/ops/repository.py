"""Every query on the job tables: the admin list, one job, and re-queueing a failed one."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.ops.models import job_errors, jobs

_LISTING = select(
    jobs.c.id,
    jobs.c.task_name,
    jobs.c.queue_name,
    jobs.c.status,
    jobs.c.attempts,
    jobs.c.args,
    jobs.c.scheduled_at,
    job_errors.c.error.label("last_error"),
    job_errors.c.occurred_at.label("last_error_at"),
).select_from(jobs.outerjoin(job_errors, job_errors.c.job_id == jobs.c.id))


class JobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(
        self, *, status: str | None, task: str | None, offset: int, limit: int, before_id: int | None
    ) -> tuple[list[Any], int]:
        """Newest first; `before_id` pages by keyset (then `offset` is ignored)."""
        filters = []
        if status is not None:
            filters.append(jobs.c.status == status)
        if task is not None:
            filters.append(jobs.c.task_name == task)
        total = await self.session.scalar(select(func.count()).select_from(jobs).where(*filters))
        query: Select = _LISTING.where(*filters).order_by(jobs.c.id.desc()).limit(limit)
        query = query.where(jobs.c.id < before_id) if before_id is not None else query.offset(offset)
        return list((await self.session.execute(query)).all()), total or 0

    async def get(self, job_id: int) -> Any:
        return (await self.session.execute(_LISTING.where(jobs.c.id == job_id))).first()

    async def lock(self, job_id: int) -> Any:
        """The job's status and queue, row-locked until the transaction ends."""
        query = (
            select(jobs.c.status, jobs.c.queue_name, jobs.c.attempts)
            .where(jobs.c.id == job_id)
            .with_for_update()
        )
        return (await self.session.execute(query)).first()

    async def requeue(self, job_id: int, *, queue: str) -> None:
        """Back to `todo` now through Procrastinate's own function (attempts + 1, a `retried` event), then
        wake the workers on the channels Procrastinate's insert trigger uses (delivered at commit)."""
        await self.session.execute(
            text("SELECT procrastinate_retry_job_v2(:job_id, now(), NULL, NULL, NULL)"), {"job_id": job_id}
        )
        await self.session.execute(
            text(
                "SELECT pg_notify('procrastinate_any_queue_v1', :payload),"
                " pg_notify('procrastinate_queue_v1#' || :queue, :payload)"
            ),
            {"payload": json.dumps({"type": "job_inserted", "job_id": job_id}), "queue": queue},
        )
