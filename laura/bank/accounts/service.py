"""Checking accounts: opened with the customer, read as balance and statement, and the one place bank code
names a customer's ledger account."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.accounts.cache import BalanceCache
from laura.bank.accounts.entries import EntryKind, EntryStatus, matches, status_of
from laura.bank.accounts.errors import AccountNotActive, AccountNotFound
from laura.bank.accounts.models import AccountStatus, BankAccount
from laura.bank.accounts.numbers import AGENCY, account_number
from laura.bank.accounts.repository import AccountRepository
from laura.bank.accounts.schemas import AccountOut, StatementEntry, StatementOut, StatementPagination
from laura.core.models import uuid7
from laura.core.money import from_cents
from laura.core.pagination import decode_cursor, encode_cursor
from laura.ledger import service as ledger

DEPOSITS = "2101"
"""Chart of accounts (migration 0002): customer deposits are `2101.<user id>`."""
EQUITY = "3100"
BOLETO_CLEARING = "1220"
TED_CLEARING = "1210"
PIX_CLEARING = "1200"
FEES = "4300"

_SCAN_PAGE = 200


def ledger_code(user_id: uuid.UUID | str) -> str:
    """The ledger account holding a customer's money."""
    return f"{DEPOSITS}.{user_id}"


async def open_checking_account(session: AsyncSession, user_id: uuid.UUID, name: str) -> BankAccount:
    """Open the ledger LIABILITY account (no overdraft) and its agency/number, in the caller's transaction."""
    repo = AccountRepository(session)
    existing = await repo.by_user(user_id)
    if existing is not None:
        return existing
    ledger_account = await ledger.open_account(
        session,
        code=ledger_code(user_id),
        name=f"Conta corrente {name}"[:120],
        type=ledger.AccountType.LIABILITY,
        owner_id=user_id,
        debits_must_not_exceed_credits=True,
    )
    account = BankAccount(
        id=uuid7(),
        user_id=user_id,
        ledger_account_id=ledger_account.id,
        agency=AGENCY,
        number=account_number(await repo.next_sequence()),
        status=AccountStatus.ACTIVE,
    )
    await repo.add(account)
    return account


async def require_account(session: AsyncSession, user_id: uuid.UUID, *, lock: bool = False) -> BankAccount:
    """The customer's active account; `lock` serializes that customer's money movements (limits)."""
    account = await AccountRepository(session).by_user(user_id, lock=lock)
    if account is None:
        raise AccountNotFound()
    if account.status != AccountStatus.ACTIVE:
        raise AccountNotActive()
    return account


async def find_account(session: AsyncSession, user_id: uuid.UUID) -> BankAccount | None:
    return await AccountRepository(session).by_user(user_id)


async def account_summary(session: AsyncSession, user_id: uuid.UUID, cache: BalanceCache) -> AccountOut:
    """Balance, available (balance minus holds) and blocked (the holds), read through the cache."""
    account = await AccountRepository(session).head_of_user(user_id)
    if account is None:
        raise AccountNotFound()
    cents = await cache.get(user_id)
    if cents is None:
        balance = await ledger.balance(session, account.ledger_account_id)
        cents = {"posted": balance.posted, "available": balance.available}
        await cache.put(user_id, cents)
    return AccountOut(
        id=account.id,
        agency=account.agency,
        number=account.number,
        status=account.status,
        balance=from_cents(cents["posted"]),
        available=from_cents(cents["available"]),
        blocked=from_cents(cents["posted"] - cents["available"]),
    )


async def statement(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
    kind: EntryKind | None = None,
    status: EntryStatus | None = None,
) -> StatementOut:
    """Entries newest first with the running balance, keyset-paginated, optionally inside [since, until]
    and of one kind and status (`accounts.entries`).

    The ledger pages by entry id; the date window and the filters are applied while walking it, and the walk
    stops at the first entry older than `since` (entries are in time order).
    """
    account = await AccountRepository(session).by_user(user_id)
    if account is None:
        raise AccountNotFound()
    since, until = _aware(since), _aware(until)
    if cursor is not None:
        decode_cursor(cursor)
    ledger_cursor = cursor
    rows: list[StatementEntry] = []
    exhausted = False
    while len(rows) <= limit and not exhausted:
        page = await ledger.entries(
            session, account.ledger_account_id, cursor=ledger_cursor, limit=_SCAN_PAGE
        )
        for row in page.rows:
            if since is not None and row.created_at < since:
                exhausted = True
                break
            if (until is not None and row.created_at > until) or not matches(row, kind, status):
                continue
            rows.append(_entry(row))
        if page.next_cursor is None:
            exhausted = True
        ledger_cursor = page.next_cursor
    page_rows, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor({"id": page_rows[-1].id}) if more else None
    return StatementOut(
        data=page_rows, pagination=StatementPagination(limit=limit, has_more=more, next_cursor=next_cursor)
    )


async def statement_csv(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    since: datetime | None,
    until: datetime | None,
    kind: EntryKind | None = None,
    status: EntryStatus | None = None,
) -> str:
    """The whole statement in the window (and filters) as CSV: date, type, description, direction, amount,
    balance, pending, transaction id, status."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "date",
            "type",
            "description",
            "direction",
            "amount",
            "balance",
            "pending",
            "transaction_id",
            "status",
        ]
    )
    cursor = None
    while True:
        page = await statement(
            session, user_id, since=since, until=until, cursor=cursor, limit=500, kind=kind, status=status
        )
        for row in page.data:
            writer.writerow(
                [
                    row.created_at.isoformat(),
                    row.type,
                    row.description or "",
                    row.direction,
                    f"{row.amount:.2f}",
                    f"{row.balance:.2f}",
                    str(row.pending).lower(),
                    row.transaction_id,
                    row.status,
                ]
            )
        cursor = page.pagination.next_cursor
        if cursor is None:
            return out.getvalue()


def _aware(value: datetime | None) -> datetime | None:
    """A bound given without a zone (`?from=2026-01-01`) is read as UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _entry(row: ledger.StatementRow) -> StatementEntry:
    return StatementEntry(
        id=row.entry_id,
        transaction_id=row.transaction_id,
        type=row.reason,
        description=row.description,
        direction="CREDIT" if row.direction == "C" else "DEBIT",
        amount=from_cents(row.amount_cents),
        balance=from_cents(row.balance_cents),
        pending=row.pending,
        status=status_of(row),
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        created_at=row.created_at,
    )
