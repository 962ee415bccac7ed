"""The customer's home: balance (available and blocked) and the last transactions, from the bank's
accounts service (the same reads as `GET /api/accounts/me` and its statement)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from laura.bank.accounts import service as accounts
from laura.bank.accounts.deps import BalanceCacheDep
from laura.core.db import SessionDep
from laura.web.render import page
from laura.web.session import WebUser

router = APIRouter(include_in_schema=False)
LAST_TRANSACTIONS = 10


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, user: WebUser, session: SessionDep, cache: BalanceCacheDep) -> Response:
    if user.role in ("staff", "admin"):  # no bank account: their home is the operations console
        return RedirectResponse("/ops", status_code=303)
    account = await accounts.account_summary(session, user.id, cache)
    recent = await accounts.statement(
        session, user.id, since=None, until=None, cursor=None, limit=LAST_TRANSACTIONS
    )
    return page(request, "home.html", user=user, account=account, entries=recent.data)
