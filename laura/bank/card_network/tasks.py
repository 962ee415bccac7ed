"""Card network housekeeping: an authorization whose hold the ledger's expiry released becomes VOIDED."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.accounts.cache import invalidate_balances_after_commit
from laura.bank.card_network import service
from laura.core.jobs import app, current_runtime, job_task


@app.periodic(cron="* * * * *", periodic_id="card-network-void-released")
@job_task(name="card_network.void_released", queueing_lock="card_network.void_released")
async def void_released(session: AsyncSession, *, timestamp: int) -> int:
    """Every minute, after the ledger's `ledger.expire_holds`: 500 released authorizations per run marked
    VOIDED (the card's spend stopped counting them when the hold was released), their balances' cache
    dropped."""
    users = await service.void_released(session)
    if users:
        invalidate_balances_after_commit(session, current_runtime().settings.redis_url, *set(users))
    return len(users)
