"""The app's budget summary cache, for the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from laura.bank.budgets.cache import SummaryCache


async def _summary_cache(request: Request) -> SummaryCache:
    cache: SummaryCache = request.app.state.budget_cache
    return cache


SummaryCacheDep = Annotated[SummaryCache, Depends(_summary_cache)]
