"""Housekeeping of the location trail: daily partitions created a week ahead, old ones dropped."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.jobs import app, current_runtime, job_task
from laura.mobility.matching import service

AHEAD_DAYS = 7


@app.periodic(cron="7 * * * *", periodic_id="mobility-location-partitions")
@job_task(name="mobility.matching.location_partitions")
async def location_partitions(session: AsyncSession, *, timestamp: int) -> dict:
    """Hourly (cheap when nothing is missing): partitions for the next week exist, expired days are gone."""
    settings = current_runtime().settings
    return await service.ensure_location_partitions(
        session,
        today=datetime.now(UTC).date(),
        ahead_days=AHEAD_DAYS,
        retention_days=settings.mobility_location_retention_days,
    )
