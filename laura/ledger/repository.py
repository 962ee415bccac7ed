"""Every ledger query. Writes are one call each to the PL/pgSQL functions of `sql/*.sql`; their SQLSTATEs
become the ledger's errors here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import fetchrow
from laura.core.errors import AppError
from laura.ledger.errors import BY_SQLSTATE
from laura.ledger.models import LedgerAccount, LedgerAccountShard, LedgerEntry, LedgerHold, LedgerTransaction
from laura.ledger.models import account_balances as balances
from laura.ledger.types import Account, AccountType, Balances, Hold, Line, StatementRow, Transaction

SHARDS = 16
"""Shard rows per hot account; matches the `% 16` of sql/ledger_apply.sql."""

_TX = "(r.tx).*, r.replayed"

_POST = (
    f"SELECT {_TX} FROM ledger_post($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::uuid[], $10::text[], $11::text[],"
    " $12::bigint[], $13, $14) r"
)
_POST_HOLD = f"SELECT {_TX} FROM ledger_post_hold($1, $2, $3, $4, $5, $6, $7, $8::jsonb) r"
_VOID_HOLD = "SELECT * FROM ledger_void_hold($1, $2, $3)"
_REVERSE = f"SELECT {_TX} FROM ledger_reverse($1, $2, $3, $4, $5, $6::jsonb) r"
_DETAIL_KEY = {
    "LD001": "account",
    "LD003": "account",
    "LD004": "reference",
    "LD005": "status",
    "LD006": "transaction",
    "LD007": "transaction",
}


def error_from(exc: asyncpg.PostgresError) -> AppError | None:
    """The ledger's error for a failure raised by one of its SQL functions (None for any other failure),
    also for a statement that calls them from outside the ledger (`bank_p2p_send`)."""
    sqlstate = exc.sqlstate
    error_class = BY_SQLSTATE.get(sqlstate or "")
    if error_class is None:
        return None
    key = _DETAIL_KEY.get(sqlstate or "")
    if key is None:
        return error_class(exc.message)
    return error_class(details={key: exc.detail})


def _metadata(value: Mapping[str, Any] | None) -> str | None:
    return json.dumps(value, default=str) if value is not None else None


def _transaction(row: Mapping[str, Any]) -> Transaction:
    return Transaction(
        id=row["id"],
        reference=row["reference"],
        kind=row["kind"],
        reason=row["reason"],
        amount_cents=row["amount"],
        description=row["description"],
        entity_type=row["entity_type"],
        entity_id=row["entity_id"],
        external_ref=row["external_ref"],
        metadata=row["metadata"] or {},
        hold_id=row["hold_id"],
        reverses_id=row["reverses_id"],
        created_at=row["created_at"],
        replayed=bool(row.get("replayed", False)),
    )


def _account(row: LedgerAccount, totals: Balances | None = None) -> Account:
    return Account(
        id=row.id,
        code=row.code,
        name=row.name,
        type=AccountType(row.type),
        owner_id=row.owner_id,
        currency=row.currency,
        debits_must_not_exceed_credits=row.debits_must_not_exceed_credits,
        credits_must_not_exceed_debits=row.credits_must_not_exceed_debits,
        hot=row.hot,
        created_at=row.created_at,
        totals=totals or Balances(),
    )


_TOTALS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")
_ACCOUNT_COLUMNS = (
    "a.id, a.code, a.name, a.type, a.owner_id, a.currency, a.debits_must_not_exceed_credits,"
    " a.credits_must_not_exceed_debits, a.hot, a.created_at, " + ", ".join(f"b.{name}" for name in _TOTALS)
)
_ACCOUNT = (
    f"SELECT {_ACCOUNT_COLUMNS} FROM ledger_accounts a"
    " JOIN ledger_account_balances b ON b.account_id = a.id WHERE a.{column} = $1"
)
_ACCOUNT_BY_ID = _ACCOUNT.format(column="id")
_ACCOUNT_BY_CODE = _ACCOUNT.format(column="code")


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _call(self, statement: str, *args: Any) -> Mapping[str, Any]:
        """One ledger function call on the session's transaction; its SQLSTATE becomes the ledger's error."""
        try:
            row = await fetchrow(self.session, statement, *args)
        except asyncpg.PostgresError as exc:
            error = error_from(exc)
            if error is None:
                raise
            raise error from exc
        assert row is not None
        answer: Mapping[str, Any] = row
        return answer

    async def post(
        self,
        tx_id: uuid.UUID,
        lines: Sequence[Line],
        *,
        reference: str,
        reason: str,
        description: str | None,
        entity_type: str | None,
        entity_id: str | None,
        external_ref: str | None,
        metadata: Mapping[str, Any] | None,
        pending: bool,
        timeout_seconds: int | None,
    ) -> Transaction:
        row = await self._call(
            _POST,
            tx_id,
            reference,
            reason,
            description,
            entity_type,
            entity_id,
            external_ref,
            _metadata(metadata),
            [line.account if isinstance(line.account, uuid.UUID) else None for line in lines],
            [None if isinstance(line.account, uuid.UUID) else line.account for line in lines],
            [line.direction for line in lines],
            [line.cents for line in lines],
            pending,
            timeout_seconds,
        )
        return _transaction(row)

    async def post_hold(
        self,
        tx_id: uuid.UUID,
        hold: str | uuid.UUID,
        *,
        amount: int | None,
        reference: str,
        reason: str | None,
        description: str | None,
        metadata: Mapping[str, Any] | None,
    ) -> Transaction:
        row = await self._call(
            _POST_HOLD,
            tx_id,
            hold if isinstance(hold, uuid.UUID) else None,
            None if isinstance(hold, uuid.UUID) else hold,
            amount,
            reference,
            reason,
            description,
            _metadata(metadata),
        )
        return _transaction(row)

    async def void_hold(self, hold: str | uuid.UUID, *, status: str = "voided") -> Hold:
        row = await self._call(
            _VOID_HOLD,
            hold if isinstance(hold, uuid.UUID) else None,
            None if isinstance(hold, uuid.UUID) else hold,
            status,
        )
        return Hold(row["transaction_id"], row["status"], row["expires_at"], row["resolved_at"])

    async def reverse(
        self,
        tx_id: uuid.UUID,
        original: uuid.UUID,
        *,
        reference: str,
        reason: str,
        description: str | None,
        metadata: Mapping[str, Any] | None,
    ) -> Transaction:
        row = await self._call(
            _REVERSE,
            tx_id,
            original,
            reference,
            reason,
            description,
            _metadata(metadata),
        )
        return _transaction(row)

    async def expired_holds(self, now: datetime, limit: int) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            select(LedgerHold.transaction_id)
            .where(LedgerHold.status == "pending", LedgerHold.expires_at <= now)
            .order_by(LedgerHold.expires_at)
            .limit(limit)
        )
        return list(rows)

    async def insert_account(self, account: dict[str, Any]) -> bool:
        """Insert unless the code exists; True when this call created it (with its shards when hot)."""
        created = await self.session.scalar(
            insert(LedgerAccount)
            .values(**account)
            .on_conflict_do_nothing(index_elements=[LedgerAccount.code])
            .returning(LedgerAccount.id)
        )
        if created is not None and account["hot"]:
            await self.session.execute(
                insert(LedgerAccountShard), [{"account_id": created, "shard": s} for s in range(SHARDS)]
            )
        return created is not None

    async def account(self, ref: str | uuid.UUID) -> Account | None:
        """The account by id or code with its totals, read through the driver (`core.reader`)."""
        sql = _ACCOUNT_BY_ID if isinstance(ref, uuid.UUID) else _ACCOUNT_BY_CODE
        row = await fetchrow(self.session, sql, ref)
        if row is None:
            return None
        fields = dict(row)
        totals = Balances(**{name: fields.pop(name) for name in _TOTALS})
        return Account(**{**fields, "type": AccountType(fields["type"])}, totals=totals)

    async def accounts(self, *, offset: int, limit: int) -> tuple[list[Account], int]:
        total = await self.session.scalar(select(func.count()).select_from(LedgerAccount))
        rows = await self.session.execute(
            select(LedgerAccount, balances)
            .join(balances, balances.c.account_id == LedgerAccount.id)
            .order_by(LedgerAccount.code)
            .offset(offset)
            .limit(limit)
        )
        return [_account(row[0], _totals(row)) for row in rows], int(total or 0)

    async def all_accounts(self) -> list[Account]:
        rows = await self.session.execute(
            select(LedgerAccount, balances)
            .join(balances, balances.c.account_id == LedgerAccount.id)
            .order_by(LedgerAccount.code)
        )
        return [_account(row[0], _totals(row)) for row in rows]

    async def transaction(self, ref: str | uuid.UUID) -> Transaction | None:
        where = (
            LedgerTransaction.id == ref if isinstance(ref, uuid.UUID) else LedgerTransaction.reference == ref
        )
        row = await self.session.scalar(select(LedgerTransaction).where(where))
        if row is None:
            return None
        return _transaction({**{c: getattr(row, c) for c in _TX_COLUMNS}, "metadata": row.metadata_})

    async def totals_as_of(self, account_id: uuid.UUID, as_of: datetime) -> Balances:
        """The four totals recomputed from entries: posted up to `as_of`, holds still open at `as_of`."""
        open_hold = and_(
            LedgerEntry.pending, (LedgerHold.resolved_at.is_(None)) | (LedgerHold.resolved_at > as_of)
        )

        def total(*conditions: ColumnElement[bool]) -> ColumnElement[int]:
            return func.coalesce(func.sum(LedgerEntry.amount).filter(*conditions), 0)

        row = (
            await self.session.execute(
                select(
                    total(LedgerEntry.direction == "D", open_hold),
                    total(LedgerEntry.direction == "D", ~LedgerEntry.pending),
                    total(LedgerEntry.direction == "C", open_hold),
                    total(LedgerEntry.direction == "C", ~LedgerEntry.pending),
                )
                .select_from(LedgerEntry)
                .outerjoin(LedgerHold, LedgerHold.transaction_id == LedgerEntry.transaction_id)
                .where(LedgerEntry.account_id == account_id, LedgerEntry.created_at <= as_of)
            )
        ).one()
        return Balances(*(int(value) for value in row))

    async def statement(
        self, account_id: uuid.UUID, *, before_id: int | None, limit: int
    ) -> list[dict[str, Any]]:
        """Entries of one account, newest first, from just below `before_id` (keyset)."""
        query = (
            select(
                LedgerEntry.id.label("entry_id"),
                LedgerEntry.transaction_id,
                LedgerTransaction.reference,
                LedgerTransaction.kind,
                LedgerTransaction.reason,
                LedgerTransaction.description,
                LedgerTransaction.entity_type,
                LedgerTransaction.entity_id,
                LedgerTransaction.external_ref,
                LedgerEntry.direction,
                LedgerEntry.amount.label("amount_cents"),
                LedgerEntry.pending,
                LedgerHold.status.label("hold_status"),
                LedgerEntry.balance_after,
                LedgerEntry.created_at,
            )
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .outerjoin(
                LedgerHold, and_(LedgerHold.transaction_id == LedgerEntry.transaction_id, LedgerEntry.pending)
            )
            .where(LedgerEntry.account_id == account_id)
            .order_by(LedgerEntry.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            query = query.where(LedgerEntry.id < before_id)
        return [dict(row) for row in (await self.session.execute(query)).mappings()]

    async def posted_through(self, account_id: uuid.UUID, entry_id: int) -> Balances:
        """Posted totals of the entries up to and including `entry_id` (running balance of hot accounts)."""
        row = (
            await self.session.execute(
                select(
                    func.coalesce(func.sum(LedgerEntry.amount).filter(LedgerEntry.direction == "D"), 0),
                    func.coalesce(func.sum(LedgerEntry.amount).filter(LedgerEntry.direction == "C"), 0),
                ).where(
                    LedgerEntry.account_id == account_id, LedgerEntry.id <= entry_id, ~LedgerEntry.pending
                )
            )
        ).one()
        return Balances(debits_posted=int(row[0]), credits_posted=int(row[1]))

    async def count_entries(self, account_id: uuid.UUID) -> int:
        total = await self.session.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.account_id == account_id)
        )
        return int(total or 0)


_TX_COLUMNS = (
    "id",
    "reference",
    "kind",
    "reason",
    "amount",
    "description",
    "entity_type",
    "entity_id",
    "external_ref",
    "hold_id",
    "reverses_id",
    "created_at",
)


def _totals(row: Any) -> Balances:
    mapping = row._mapping
    return Balances(
        debits_pending=mapping["debits_pending"],
        debits_posted=mapping["debits_posted"],
        credits_pending=mapping["credits_pending"],
        credits_posted=mapping["credits_posted"],
    )


def statement_row(row: Mapping[str, Any], balance: int) -> StatementRow:
    return StatementRow(**{k: v for k, v in row.items() if k != "balance_after"}, balance_cents=balance)
