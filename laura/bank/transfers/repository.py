"""Every query on transfers."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.transfers.models import Transfer
from laura.core.db import fetchrow, fetchval, write_at_commit

_COUNTED = ("SCHEDULED", "PENDING", "COMPLETED")
SORTABLE = {"created_at": Transfer.created_at, "amount": Transfer.amount_cents, "status": Transfer.status}


_COLUMNS = [column.name for column in Transfer.__table__.columns]
_INSERT = (
    f"INSERT INTO transfers ({', '.join(_COLUMNS)})"
    f" VALUES ({', '.join(f'${n}' for n in range(1, len(_COLUMNS) + 1))})"
)


class TransferRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, transfer: Transfer) -> None:
        self.session.add(transfer)
        await self.session.flush()

    def insert_at_commit(self, transfer: Transfer) -> None:
        """Queue a transfer this unit of work will neither change nor read again, every column given, for
        the commit's batch of writes (the P2P hot path, without the ORM's unit of work)."""
        write_at_commit(self.session, _INSERT, *(getattr(transfer, name) for name in _COLUMNS))

    async def get(self, transfer_id: uuid.UUID, *, user_id: uuid.UUID | None = None, lock: bool = False) -> Transfer | None:
        """A transfer by id; with `user_id`, only if it is that user's (another's answers None, so 404)."""
        query = select(Transfer).where(Transfer.id == transfer_id)
        if user_id is not None:
            query = query.where(Transfer.user_id == user_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def p2p_parties(self, sender_id: uuid.UUID, recipient_id: uuid.UUID, since: datetime) -> asyncpg.Record:
        """Lock the sender's account row (serializing that customer's transfers and daily limit), read both
        accounts' statuses (None where there is no account) and the cents the sender moved since `since`,
        read after the lock was granted (migration 0011): one round trip."""
        return await fetchrow(
            self.session,
            "SELECT sender_status, recipient_status, sent FROM bank_transfer_parties($1, $2, $3, $4)",
            sender_id,
            recipient_id,
            since,
            _COUNTED,
        )

    async def sent_since(self, user_id: uuid.UUID, since: datetime, *, types: tuple[str, ...] | None = None) -> int:
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
            Transfer.status.in_(("PENDING", "COMPLETED")),
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
            await self.session.execute(select(Transfer).where(*conditions).order_by(*order).offset(offset).limit(limit))
        ).scalars()
        total = (await self.session.execute(select(func.count()).select_from(Transfer).where(*conditions))).scalar_one()
        return list(rows), int(total)
