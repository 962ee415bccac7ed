"""The customer's home: balance (available and blocked) and the last transactions, from the bank's
accounts service (the same reads as `GET /api/accounts/me` and its statement). `GET /home/summary` renders
that part alone, for the page to swap in when a live event says money moved."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.accounts import service as accounts
from laura.bank.accounts.cache import BalanceCache
from laura.bank.accounts.deps import BalanceCacheDep
from laura.core.db import SessionDep
from laura.web.render import page
from laura.web.routes.analytics import home_insights
from laura.web.session import WebUser

router = APIRouter(include_in_schema=False)
LAST_TRANSACTIONS = 10
_LANDING = {"passenger": "/rider/new", "driver": "/driver/dashboard"}


async def _summary(session: AsyncSession, user_id: uuid.UUID, cache: BalanceCache) -> dict:
    account = await accounts.account_summary(session, user_id, cache)
    recent = await accounts.statement(
        session, user_id, since=None, until=None, cursor=None, limit=LAST_TRANSACTIONS
    )
    return {"account": account, "entries": recent.data}


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, user: WebUser, session: SessionDep, cache: BalanceCacheDep) -> Response:
    if user.role in ("staff", "admin"):  # no bank account: their home is the operations console
        return RedirectResponse("/ops", status_code=303)
    if user.role in _LANDING:  # passengers and drivers have no bank account: their own screens
        return RedirectResponse(_LANDING[user.role], status_code=303)
    insights = await home_insights(request, session, user.id)  # budget bars and the 30-day chart
    return page(request, "home.html", user=user, **await _summary(session, user.id, cache), **insights)


@router.get("/home/summary", response_class=HTMLResponse)
async def home_summary(
    request: Request, user: WebUser, session: SessionDep, cache: BalanceCacheDep
) -> Response:
    return page(request, "_home_summary.html", user=user, **await _summary(session, user.id, cache))
