"""GET /api/accounts/me and its statement (JSON, or CSV with ?format=csv)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from laura.bank.accounts import (
    hooks,  # noqa: F401 - registers the account-opening hook at app start
    service,
)
from laura.bank.accounts.deps import BalanceCacheDep
from laura.bank.accounts.entries import EntryKind, EntryStatus
from laura.bank.accounts.schemas import AccountOut, StatementOut
from laura.core.db import SessionDep
from laura.core.replica import ReplicaSessionDep
from laura.identity.deps import CurrentUser

router = APIRouter(prefix="/api/accounts", tags=["accounts"])


@router.get("/me", response_model=AccountOut, responses={404: {"description": "No checking account"}})
async def my_account(user: CurrentUser, session: SessionDep, cache: BalanceCacheDep) -> AccountOut:
    """The caller's agency/number, balance, available balance and the amount blocked by holds. Read on the
    primary: a miss fills the balance cache, and a replica's older balance would stay there after the
    write that dropped it; the customer decides a transfer from it, too (the transfer checks again)."""
    return await service.account_summary(session, user.id, cache)


@router.get(
    "/me/statement",
    response_model=StatementOut,
    responses={200: {"content": {"text/csv": {}}, "description": "JSON page, or CSV with ?format=csv"}},
)
async def my_statement(
    user: CurrentUser,
    session: ReplicaSessionDep,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: Annotated[datetime | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    type: Annotated[EntryKind | None, Query()] = None,
    status: Annotated[EntryStatus | None, Query()] = None,
) -> StatementOut | Response:
    """Entries newest first with the running balance after each; `nextCursor` fetches older ones. `type`
    (P2P, PIX, TED, BILL, CARD, DEPOSIT) and `status` (COMPLETED, PENDING, SETTLED, CANCELLED) filter.
    Read on the replica when there is one: an entry shows up once it has replayed there."""
    if format == "csv":
        body = await service.statement_csv(session, user.id, since=from_, until=to, kind=type, status=status)
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="extrato.csv"'},
        )
    return await service.statement(
        session, user.id, since=from_, until=to, cursor=cursor, limit=limit, kind=type, status=status
    )
