"""The job that sends a payout's Pix after the request committed; importing this module also registers the
'mobility.payout' send handlers for the worker (settling a send runs them)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.jobs import Retry, job_task
from laura.core.models import utcnow
from laura.mobility.payouts import service


@job_task(name=service.PROCESS_TASK, retry=Retry(max_attempts=8, backoff_seconds=2, max_backoff_seconds=300))
async def process_payout_job(session: AsyncSession, *, payout_id: str) -> str:
    """Move a PENDING payout to PROCESSING with its recorded send (the send's own job submits it)."""
    return await service.process_payout(session, payout_id=uuid.UUID(payout_id), now=utcnow())
