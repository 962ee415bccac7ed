"""Support housekeeping: a RESOLVED ticket nobody answered for `support_auto_close_days` closes itself."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.support import service
from laura.bank.support.policy import policy_of
from laura.core.jobs import app, current_runtime, job_task
from laura.core.models import utcnow


@app.periodic(cron="*/15 * * * *", periodic_id="support-auto-close")
@job_task(name="support.auto_close", queueing_lock="support.auto_close")
async def auto_close(session: AsyncSession, *, timestamp: int) -> int:
    """Every 15 minutes: close up to 500 RESOLVED tickets past the delay with no customer reply since."""
    settings = current_runtime().settings
    return await service.auto_close(session, policy_of(settings), now=utcnow())
