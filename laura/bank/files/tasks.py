"""Files housekeeping: the bytes of uploads that never got their row are removed once a day."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.files import service
from laura.core.files import FileStore
from laura.core.jobs import app, current_runtime, job_task
from laura.core.models import utcnow


@app.periodic(cron="40 3 * * *", periodic_id="files-sweep-orphans")
@job_task(name="files.sweep_orphans", queueing_lock="files.sweep_orphans")
async def sweep_orphans(session: AsyncSession, *, timestamp: int) -> int:
    """At 03:40 UTC: blobs no file row names, older than an hour, are deleted."""
    store = FileStore(current_runtime().settings.data_dir / "files")
    return await service.sweep_orphans(session, store, now=utcnow())
