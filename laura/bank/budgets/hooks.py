"""Budgets listen to spending: every write that changes a customer's spending schedules their check."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.budgets.alerts import schedule_check
from laura.bank.spending.changes import on_spending_changed


@on_spending_changed
async def check_budgets(session: AsyncSession, user_id: uuid.UUID) -> None:
    await schedule_check(session, user_id)
