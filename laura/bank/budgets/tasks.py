"""The budgets' threshold check, enqueued by the spending writes (`alerts.schedule_check`). Importing this
module also registers the spending hook in the worker, whose jobs (a TED settled, a scheduled bill paid)
change spending too."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.budgets import alerts
from laura.bank.budgets import hooks as _hooks  # noqa: F401 - registers the spending hook
from laura.core.jobs import Retry, job_task
from laura.core.models import utcnow


@job_task(name=alerts.CHECK_TASK, retry=Retry(max_attempts=5))
async def check_budgets(session: AsyncSession, user_id: str) -> int:
    """Alert the thresholds the customer's budgets reached; returns how many alerts it sent."""
    return len(await alerts.check(session, uuid.UUID(user_id), utcnow()))
