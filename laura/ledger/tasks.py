"""Ledger housekeeping: holds past their timeout are released, so their money is available again."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.jobs import app, job_task
from laura.ledger import service


@app.periodic(cron="* * * * *", periodic_id="ledger-expire-holds")
@job_task(name="ledger.expire_holds", queueing_lock="ledger.expire_holds")
async def expire_holds(session: AsyncSession, *, timestamp: int) -> int:
    """Every minute: void (as `expired`) the pending holds whose timeout has passed, 500 per run."""
    return await service.expire_holds(session)
