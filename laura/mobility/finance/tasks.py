"""The drivers' daily balance snapshots: a row per driver account per Brasília day, as of its end, so a
driver's balance on any past day is read, not recomputed from the whole ledger."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.jobs import app, current_runtime, job_task
from laura.mobility.finance import service


# 03:15 UTC is 00:15 in Brasília (UTC-3, no daylight saving since 2019): the day just ended is complete.
@app.periodic(cron="15 3 * * *", periodic_id="mobility-driver-balance-snapshots")
@job_task(name="mobility.finance.snapshot_balances", queueing_lock="mobility.finance.snapshot_balances")
async def snapshot_balances(session: AsyncSession, *, timestamp: int) -> list[str]:
    """Daily: snapshot yesterday (and any day a stopped worker missed) as of the day's end. The day comes
    from the schedule's `timestamp`, so a run that starts late still snapshots the day it was due for."""
    settings = current_runtime().settings
    days = await service.snapshot_balances(
        session, now=datetime.fromtimestamp(timestamp, UTC), timezone=settings.mobility_timezone
    )
    return [day.isoformat() for day in days]
