"""The job that creates a ride's Pix charge after the completing transaction committed, retried while
the PSP is unreachable; importing this module also registers the purpose's paid hook for the worker."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.jobs import Retry, current_runtime, job_task
from laura.mobility.payments import service
from laura.mobility.rides.lifecycle import utcnow
from laura.pix.psp import EfiClient
from laura.settings import get_settings


@job_task(name=service.CHARGE_TASK, retry=Retry(max_attempts=8, backoff_seconds=2, max_backoff_seconds=300))
async def create_charge_job(session: AsyncSession, *, intent_id: str) -> str:
    """Charge the intent at the PSP (the txid is ours, so a retried PUT creates nothing twice)."""
    settings = current_runtime().settings or get_settings()
    async with EfiClient.from_settings(settings) as psp:
        return await service.charge_intent(
            session, psp, intent_id=uuid.UUID(intent_id), now=utcnow(), pix_key=settings.psp_pix_key
        )
