"""The ledger for admins: the trial balance (every account's posted balance in its debit or credit column,
and whether the columns agree) and one account's statement, newest first with the balance after each
entry, paged by keyset. The same reads as `GET /admin/ledger/trial-balance` and
`/admin/ledger/accounts/{code}/entries`, shown through the API's own schemas (reais from cents)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from laura.core.errors import ValidationFailed
from laura.core.replica import ReplicaSessionDep
from laura.ledger import service as ledger
from laura.ledger.errors import AccountNotFound, InvalidLines
from laura.ledger.schemas import AccountOut, StatementRowOut, TrialBalanceOut
from laura.web.routes.console.access import ConsoleAdmin, ConsoleNotFound
from laura.web.routes.console.labels import ACCOUNT_TYPES
from laura.web.routes.console.sections import console_page

router = APIRouter(include_in_schema=False)
STATEMENT_PAGE = 25
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


@router.get("/ops/ledger", response_class=HTMLResponse)
async def trial_balance(request: Request, admin: ConsoleAdmin, session: ReplicaSessionDep) -> Response:
    trial = TrialBalanceOut.of(await ledger.trial_balance(session))
    return console_page(request, "console/trial_balance.html", trial=trial, account_types=ACCOUNT_TYPES)


@router.get("/ops/ledger/accounts/{code}", response_class=HTMLResponse)
async def account(request: Request, code: str, admin: ConsoleAdmin, session: ReplicaSessionDep) -> Response:
    if not _CODE.match(code):
        raise ConsoleNotFound()
    cursor = request.query_params.get("cursor") or None
    try:
        found = AccountOut.of(await ledger.get_account(session, code))
        statement = await ledger.entries(session, code, cursor=cursor, limit=STATEMENT_PAGE)
    except AccountNotFound as error:
        raise ConsoleNotFound() from error
    except (InvalidLines, ValidationFailed):  # a cursor that was not ours: start again from the newest
        statement = await ledger.entries(session, code, cursor=None, limit=STATEMENT_PAGE)
        cursor = None
    rows = [StatementRowOut.of(row) for row in statement.rows]
    return console_page(
        request,
        "console/account.html",
        account=found,
        rows=rows,
        next_cursor=statement.next_cursor,
        first_page=cursor is None,
        account_types=ACCOUNT_TYPES,
    )
