"""The balance cache for the current app (Redis when configured)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from laura.bank.accounts.cache import BalanceCache


async def _balance_cache(request: Request) -> BalanceCache:
    return BalanceCache(request.app.state.redis)


BalanceCacheDep = Annotated[BalanceCache, Depends(_balance_cache)]
