"""Admin reads of the ledger: accounts with balances, an account's statement, the trial balance."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from laura.core.pagination import Page, PageDep
from laura.core.replica import ReplicaSessionDep
from laura.identity.deps import AdminUser
from laura.ledger import service
from laura.ledger.schemas import AccountOut, StatementRowOut, TrialBalanceOut

router = APIRouter(prefix="/admin/ledger", tags=["ledger"])

AccountCode = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]


@router.get("/accounts", response_model=Page[AccountOut])
async def list_accounts(_: AdminUser, session: ReplicaSessionDep, page: PageDep) -> Page[AccountOut]:
    """Every ledger account with its balances, by code."""
    accounts, total = await service.list_accounts(session, offset=page.offset, limit=page.limit)
    return Page[AccountOut].build([AccountOut.of(a) for a in accounts], page, total)


@router.get(
    "/accounts/{code}/entries",
    response_model=Page[StatementRowOut],
    responses={404: {"description": "ACCOUNT_NOT_FOUND"}},
)
async def account_entries(
    code: AccountCode, _: AdminUser, session: ReplicaSessionDep, page: PageDep
) -> Page[StatementRowOut]:
    """An account's entries newest first, each with the balance after it; page with `cursor`."""
    statement = await service.entries(session, code, cursor=page.cursor, limit=page.limit)
    total = await service.count_entries(session, code)
    rows = [StatementRowOut.of(row) for row in statement.rows]
    return Page[StatementRowOut].build(rows, page, total, statement.next_cursor)


@router.get("/trial-balance", response_model=TrialBalanceOut)
async def trial_balance(_: AdminUser, session: ReplicaSessionDep) -> TrialBalanceOut:
    """Posted balances of all accounts in debit and credit columns; `balanced` is false if they differ."""
    return TrialBalanceOut.of(await service.trial_balance(session))
