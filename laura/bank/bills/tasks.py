"""The job that pays a scheduled boleto on its payment date."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.bills import service
from laura.core.jobs import Retry, current_runtime, job_task


@job_task(name=service.PAY_TASK, retry=Retry(max_attempts=5))
async def pay_scheduled_bill(session: AsyncSession, payment_id: str) -> None:
    """Runs at 08:00 Brasília of the payment date; drops the payer's cached balance when Redis is set."""
    await service.pay_scheduled(
        session, uuid.UUID(payment_id), redis_url=current_runtime().settings.redis_url
    )
