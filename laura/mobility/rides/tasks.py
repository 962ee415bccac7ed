"""Dispatch jobs: a batch's timeout (enqueued with the batch) and a sweeper for batches a worker missed."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.jobs import Retry, app, current_runtime, job_task
from laura.mobility.rides import dispatch
from laura.mobility.rides.lifecycle import utcnow
from laura.mobility.rides.policy import RidePolicy


def _policy() -> RidePolicy:
    return RidePolicy.from_settings(current_runtime().settings)


@job_task(name=dispatch.OFFER_ROUND_TASK, retry=Retry(max_attempts=5, backoff_seconds=1.0))
async def offer_round_expired(session: AsyncSession, *, ride_id: str, round: int) -> str:
    """The batch's offers lapsed: offer the ride to the next drivers (up to the last round) or expire it."""
    return await dispatch.offer_round_expired(
        session, _policy(), ride_id=uuid.UUID(ride_id), round=round, now=utcnow()
    )


@app.periodic(cron="* * * * *", periodic_id="mobility-sweep-batches")
@job_task(name="mobility.rides.sweep_lapsed_batches")
async def sweep_lapsed_batches(session: AsyncSession, *, timestamp: int) -> int:
    """Every minute: rides stuck OFFERED after their batch lapsed move on; the gauges are refreshed."""
    return await dispatch.sweep_lapsed_batches(session, _policy(), now=utcnow())
