"""Transfer jobs: execute a scheduled Pix at its time, settle a TED at its estimated delivery. Importing this
module also registers the "bank.pix_out" send handlers in the worker."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.transfers import pix, ted
from laura.bank.transfers.service import Limits
from laura.core.jobs import Retry, current_runtime, job_task
from laura.settings import Settings


def _limits() -> Limits:
    settings: Settings = current_runtime().settings
    return Limits(
        per_transfer=settings.transfer_max_amount,
        daily=settings.transfer_daily_limit,
        pix_night=settings.pix_night_limit,
    )


@job_task(name=pix.EXECUTE_TASK, retry=Retry(max_attempts=5))
async def execute_scheduled_transfer(session: AsyncSession, transfer_id: str) -> None:
    """Runs at the transfer's `scheduledFor`; a refusal fails the transfer rather than the job."""
    await pix.execute_scheduled(session, uuid.UUID(transfer_id), _limits())


@job_task(name=ted.SETTLE_TASK, retry=Retry(max_attempts=5))
async def settle_ted(session: AsyncSession, transfer_id: str) -> None:
    """Runs at the TED's estimated delivery."""
    await ted.settle_ted(session, uuid.UUID(transfer_id))
