"""The ledger's public API: open accounts, post balanced transactions, hold / post / void, reverse, read
balances and statements, verify. Nothing else writes balances.

Every write is one round trip to a PL/pgSQL function that locks the touched accounts in id order, checks
the balance-limit flags under those locks and writes the transaction, its entries and the new balances.
Postings are idempotent on `reference`. None of these functions commits: the caller's unit of work does.
A refusal (e.g. `InsufficientFunds`) aborts the database transaction; a caller that wants to go on after
one wraps the call in `session.begin_nested()`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.models import utcnow, uuid7
from laura.core.pagination import decode_cursor, encode_cursor
from laura.ledger.errors import AccountConflict, AccountNotFound, InvalidLines, UnbalancedTransaction
from laura.ledger.integrity import IntegrityRepository
from laura.ledger.repository import LedgerRepository, error_from, statement_row
from laura.ledger.types import (
    Account,
    AccountRef,
    AccountType,
    Balance,
    Direction,
    Hold,
    Line,
    Statement,
    StatementRow,
    Transaction,
    TrialBalance,
    TrialBalanceRow,
    VerifyReport,
)

LineLike = Line | tuple[AccountRef, Direction, int]

__all__ = [
    "Account",
    "AccountType",
    "Balance",
    "Hold",
    "Line",
    "Statement",
    "StatementRow",
    "Transaction",
    "TrialBalance",
    "VerifyReport",
    "balance",
    "count_entries",
    "entries",
    "error_from",
    "expire_holds",
    "get_account",
    "get_transaction",
    "hold",
    "list_accounts",
    "open_account",
    "post",
    "post_hold",
    "reverse",
    "trial_balance",
    "verify",
    "void_hold",
]


def _lines(lines: Iterable[LineLike]) -> list[Line]:
    """Normalize and check lines before the round trip; the database checks them again."""
    normalized = [line if isinstance(line, Line) else Line(*line) for line in lines]
    if len(normalized) < 2:
        raise InvalidLines("A ledger transaction needs two or more lines")
    debits = sum(line.cents for line in normalized if line.direction == "D")
    credits = sum(line.cents for line in normalized if line.direction == "C")
    if debits != credits:
        raise UnbalancedTransaction(f"Debits ({debits}) and credits ({credits}) differ")
    return normalized


async def open_account(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    type: AccountType | str,
    owner_id: uuid.UUID | None = None,
    debits_must_not_exceed_credits: bool = False,
    credits_must_not_exceed_debits: bool = False,
    hot: bool = False,
) -> Account:
    """Open an account, or return the one with this code when it has the same type, owner and flags.

    A customer deposit account is a LIABILITY with `debits_must_not_exceed_credits` (no overdraft).
    `hot` (only without limit flags) spreads the balance over shard rows for accounts every posting touches.
    """
    account_type = AccountType(type)
    repo = LedgerRepository(session)
    await repo.insert_account(
        {
            "id": uuid7(),
            "code": code,
            "name": name,
            "type": account_type.value,
            "owner_id": owner_id,
            "debits_must_not_exceed_credits": debits_must_not_exceed_credits,
            "credits_must_not_exceed_debits": credits_must_not_exceed_debits,
            "hot": hot,
        }
    )
    account = await get_account(session, code)
    if (
        account.type,
        account.owner_id,
        account.debits_must_not_exceed_credits,
        account.credits_must_not_exceed_debits,
        account.hot,
    ) != (account_type, owner_id, debits_must_not_exceed_credits, credits_must_not_exceed_debits, hot):
        raise AccountConflict(details={"code": code})
    return account


async def post(
    session: AsyncSession,
    lines: Iterable[LineLike],
    *,
    reference: str,
    reason: str,
    description: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    external_ref: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Transaction:
    """Post a balanced transaction. The same reference with the same lines returns the first transaction
    (`replayed=True`); with other lines it raises ReferenceConflict."""
    return await LedgerRepository(session).post(
        uuid7(),
        _lines(lines),
        reference=reference,
        reason=reason,
        description=description,
        entity_type=entity_type,
        entity_id=entity_id,
        external_ref=external_ref,
        metadata=metadata,
        pending=False,
        timeout_seconds=None,
    )


async def hold(
    session: AsyncSession,
    lines: Iterable[LineLike],
    *,
    reference: str,
    reason: str,
    timeout_seconds: int | None = None,
    description: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    external_ref: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Transaction:
    """Reserve money as a pending transaction: it counts against available balance until posted or voided
    (or, past `timeout_seconds`, released by `expire_holds`)."""
    return await LedgerRepository(session).post(
        uuid7(),
        _lines(lines),
        reference=reference,
        reason=reason,
        description=description,
        entity_type=entity_type,
        entity_id=entity_id,
        external_ref=external_ref,
        metadata=metadata,
        pending=True,
        timeout_seconds=timeout_seconds,
    )


async def post_hold(
    session: AsyncSession,
    hold: uuid.UUID | str,
    *,
    reference: str,
    amount_cents: int | None = None,
    reason: str | None = None,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Transaction:
    """Post a pending hold (by id or reference) in full, or `amount_cents` of a two-line hold; the rest is
    released. Idempotent on `reference`."""
    if amount_cents is not None and (isinstance(amount_cents, bool) or amount_cents <= 0):
        raise InvalidLines("The posted amount must be a positive number of cents")
    return await LedgerRepository(session).post_hold(
        uuid7(),
        hold,
        amount=amount_cents,
        reference=reference,
        reason=reason,
        description=description,
        metadata=metadata,
    )


async def void_hold(session: AsyncSession, hold: uuid.UUID | str) -> Hold:
    """Release a pending hold (by id or reference); voiding it again is a no-op, a posted one is refused."""
    return await LedgerRepository(session).void_hold(hold)


async def expire_holds(session: AsyncSession, *, now: datetime | None = None, limit: int = 500) -> int:
    """Release holds past their timeout (a periodic job calls this); returns how many were expired."""
    repo = LedgerRepository(session)
    expired = 0
    for hold_id in await repo.expired_holds(now or utcnow(), limit):
        state = await repo.void_hold(hold_id, status="expired")
        expired += state.status == "expired"
    return expired


async def reverse(
    session: AsyncSession,
    transaction_id: uuid.UUID,
    *,
    reference: str,
    reason: str,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Transaction:
    """Undo a posted transaction with a new, mirrored one; the original is never edited. A transaction is
    reversed at most once, and the reversal obeys the balance limits like any posting."""
    return await LedgerRepository(session).reverse(
        uuid7(),
        transaction_id,
        reference=reference,
        reason=reason,
        description=description,
        metadata=metadata,
    )


async def get_account(session: AsyncSession, account: AccountRef) -> Account:
    """The account (by code or id) with its current totals."""
    found = await LedgerRepository(session).account(account)
    if found is None:
        raise AccountNotFound(details={"account": str(account)})
    return found


async def get_transaction(session: AsyncSession, transaction: uuid.UUID | str) -> Transaction | None:
    """A transaction by id or reference, e.g. to find out whether a business event was already posted."""
    return await LedgerRepository(session).transaction(transaction)


async def balance(session: AsyncSession, account: AccountRef, as_of: datetime | None = None) -> Balance:
    """Posted, pending and available balance in cents on the account's normal side. With `as_of` it is
    recomputed from the entries as they stood then."""
    repo = LedgerRepository(session)
    found = await get_account(session, account)
    if as_of is None:
        return found.balance
    return Balance.of(await repo.totals_as_of(found.id, as_of), found.type)


async def entries(
    session: AsyncSession, account: AccountRef, cursor: str | None = None, limit: int = 50
) -> Statement:
    """The account's entries, newest first, each with the posted balance after it; pass `next_cursor` back
    for the next page."""
    repo = LedgerRepository(session)
    found = await get_account(session, account)
    before_id = None
    if cursor is not None:
        before_id = decode_cursor(cursor).get("id")
        if not isinstance(before_id, int):
            raise InvalidLines("Invalid cursor")
    rows = await repo.statement(found.id, before_id=before_id, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    if not page:
        return Statement([], None)
    if found.hot:
        running = Balance.of(await repo.posted_through(found.id, page[0]["entry_id"]), found.type).posted
    statement: list[StatementRow] = []
    for row in page:
        if not found.hot:
            running = row["balance_after"]
        statement.append(statement_row(row, running))
        if found.hot and not row["pending"]:
            moves_up = (row["direction"] == "D") == found.type.debit_normal
            running -= row["amount_cents"] if moves_up else -row["amount_cents"]
    next_cursor = encode_cursor({"id": page[-1]["entry_id"]}) if more else None
    return Statement(statement, next_cursor)


async def count_entries(session: AsyncSession, account: AccountRef) -> int:
    found = await get_account(session, account)
    return await LedgerRepository(session).count_entries(found.id)


async def list_accounts(session: AsyncSession, *, offset: int, limit: int) -> tuple[list[Account], int]:
    return await LedgerRepository(session).accounts(offset=offset, limit=limit)


async def trial_balance(session: AsyncSession) -> TrialBalance:
    """Every account's posted balance in the debit or the credit column; the columns add up when sound."""
    rows = []
    for account in await LedgerRepository(session).all_accounts():
        net = account.totals.debits_posted - account.totals.credits_posted
        rows.append(TrialBalanceRow(account, max(net, 0), max(-net, 0)))
    return TrialBalance(rows, sum(r.debits_cents for r in rows), sum(r.credits_cents for r in rows))


async def verify(session: AsyncSession, *, limit: int = 50) -> VerifyReport:
    """Check every transaction balances, every entry names an existing transaction and account, all debits
    equal all credits, every account's stored totals equal the sums of its entries and no flagged account
    is past its limit. Names up to `limit` problems of each kind."""
    repo = IntegrityRepository(session)
    await repo.begin_snapshot()
    problems: list[str] = []
    for row in await repo.unbalanced_transactions(limit):
        problems.append(
            f"transaction {row['reference']}: {row['lines']} entries, debits {row['debits']}, "
            f"credits {row['credits']}, declared amount {row['amount']}"
        )
    for entry_id in await repo.orphan_entries(limit):
        problems.append(f"entry {entry_id}: names a transaction or an account that does not exist")
    totals = await repo.grand_totals()
    for state in ("posted", "pending"):
        debits, credits = totals[f"debits_{state}"], totals[f"credits_{state}"]
        if debits != credits:
            problems.append(f"all {state} debits ({debits}) differ from all {state} credits ({credits})")
    for row in await repo.drifted_accounts(limit):
        for column in ("debits_pending", "debits_posted", "credits_pending", "credits_posted"):
            if row[column] != row[f"entries_{column}"]:
                problems.append(
                    f"account {row['code']}: stored {column} {row[column]}, "
                    f"entries say {row[f'entries_{column}']}"
                )
    for code in await repo.overdrawn_accounts(limit):
        problems.append(f"account {code}: past its balance limit")
    counts = await repo.counts()
    return VerifyReport(counts["transactions"], counts["entries"], counts["accounts"], problems)
