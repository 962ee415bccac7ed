"""Every query on transfers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.transfers.models import Transfer, TransferStatus
from laura.core.db import Database, fetchval
from laura.core.statement import AUDIT_ARGS, IDEMPOTENCY_ARGS, FunctionCall

_COUNTED = (TransferStatus.SCHEDULED, TransferStatus.PENDING, TransferStatus.COMPLETED)
SORTABLE = {"created_at": Transfer.created_at, "amount": Transfer.amount_cents, "status": Transfer.status}


_P2P_SEND_ARGS = (
    "session",
    "sender",
    "transfer_id",
    "recipient",
    "cents",
    "description",
    "now",
    "ledger_tx_id",
    "ledger_reference",
    "ledger_reason",
    "ledger_description",
    "sender_code",
    "recipient_code",
    "day_start",
    "counted",
    "max_cents",
    "daily_cents",
    *IDEMPOTENCY_ARGS,
    *AUDIT_ARGS,
    "event_types",
    "event_data",
    "event_users",
)
_P2P_SEND = FunctionCall(
    "bank_p2p_send", "outcome, sent, stored_hash, stored_status, stored_body", _P2P_SEND_ARGS
)


async def send_p2p(db: Database, **args: Any) -> asyncpg.Record:
    """A whole P2P in one autocommit statement (`bank_p2p_send`, sql/p2p_send.sql): the session check, the key's claim, the
    sender's lock and checks, the posting, the transfer, audit and outbox rows and the stored answer. Takes
    `bank_p2p_send`'s arguments by name (without `p_`, and without `counted`: the statuses that count toward
    the daily limit are this repository's); returns its outcome."""
    return await _P2P_SEND(db, counted=list(_COUNTED), **args)


class TransferRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, transfer: Transfer) -> None:
        self.session.add(transfer)
        await self.session.flush()

    async def get(
        self, transfer_id: uuid.UUID, *, user_id: uuid.UUID | None = None, lock: bool = False
    ) -> Transfer | None:
        """A transfer by id; with `user_id`, only if it is that user's (another's answers None, so 404)."""
        query = select(Transfer).where(Transfer.id == transfer_id)
        if user_id is not None:
            query = query.where(Transfer.user_id == user_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def by_e2e(self, e2e_id: str) -> Transfer | None:
        return await self.session.scalar(select(Transfer).where(Transfer.e2e_id == e2e_id))

    async def sent_since(
        self, user_id: uuid.UUID, since: datetime, *, types: tuple[str, ...] | None = None
    ) -> int:
        """Cents sent (or committed to be sent) by the user since `since`, for the daily and night limits."""
        return await fetchval(
            self.session,
            "SELECT coalesce(sum(amount_cents), 0) FROM transfers"
            " WHERE user_id = $1 AND status = ANY($2::text[]) AND created_at >= $3"
            " AND ($4::text[] IS NULL OR type = ANY($4::text[]))",
            user_id,
            _COUNTED,
            since,
            list(types) if types else None,
        )

    async def pix_moved_since(self, user_id: uuid.UUID, since: datetime) -> int:
        """Cents of the user's Pix that left (or are leaving) since `since`: the Pix night-limit sum."""
        moved_at = func.coalesce(Transfer.completed_at, Transfer.created_at)
        query = select(func.coalesce(func.sum(Transfer.amount_cents), 0)).where(
            Transfer.user_id == user_id,
            Transfer.type == "PIX",
            Transfer.status.in_((TransferStatus.PENDING, TransferStatus.COMPLETED)),
            moved_at >= since,
        )
        return int((await self.session.execute(query)).scalar_one())

    async def user_name(self, user_id: uuid.UUID) -> str | None:
        return (
            await self.session.execute(text("SELECT name FROM users WHERE id = :id"), {"id": user_id})
        ).scalar_one_or_none()

    async def page(
        self,
        user_id: uuid.UUID,
        *,
        status: str | None,
        type: str | None,
        sort: str,
        descending: bool,
        offset: int,
        limit: int,
    ) -> tuple[list[Transfer], int]:
        conditions = [Transfer.user_id == user_id]
        if status:
            conditions.append(Transfer.status == status)
        if type:
            conditions.append(Transfer.type == type)
        column = SORTABLE[sort]
        order = (column.desc(), Transfer.id.desc()) if descending else (column.asc(), Transfer.id.asc())
        rows = (
            await self.session.execute(
                select(Transfer).where(*conditions).order_by(*order).offset(offset).limit(limit)
            )
        ).scalars()
        total = (
            await self.session.execute(select(func.count()).select_from(Transfer).where(*conditions))
        ).scalar_one()
        return list(rows), int(total)
