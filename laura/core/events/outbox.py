"""Every query on the `outbox` table: the insert in the caller's transaction (SQLAlchemy session), the
relay's claim and mark (its own asyncpg connection) and the reads behind replay and catch-up."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    String,
    Table,
    Text,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import Base, write_at_commit
from laura.core.events.event import Event

WAKE_CHANNEL = "laura_outbox"
"""NOTIFY channel on which a follower's relay wakes the leader when events commit in its process."""

LEADER_LOCK = 7426004
"""Session advisory lock key held by the one relay that publishes (audit's chain lock is 7426002)."""

outbox = Table(
    "outbox",
    Base.metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("type", String(100), nullable=False),
    Column("data", JSONB, nullable=False),
    Column("user_ids", ARRAY(UUID(as_uuid=True)), nullable=False),
    Column("roles", ARRAY(Text), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("position", BigInteger, unique=True),
    Column("published_at", DateTime(timezone=True)),
)

_COLUMNS = (
    outbox.c.id,
    outbox.c.type,
    outbox.c.data,
    outbox.c.user_ids,
    outbox.c.roles,
    outbox.c.occurred_at,
    outbox.c.position,
)


def _event(row: RowMapping | asyncpg.Record) -> Event:
    data = row["data"]
    return Event.build(
        id=row["id"],
        type=row["type"],
        data=json.loads(data) if isinstance(data, str) else data,
        user_ids=row["user_ids"],
        roles=row["roles"],
        occurred_at=row["occurred_at"],
        position=row["position"],
    )


# --- in the caller's transaction -------------------------------------------------------------------------


PendingEvent = tuple[str, dict[str, Any], list[uuid.UUID], list[str], datetime]
"""An event on its way to the outbox: type, data, recipient user ids, recipient roles, occurred at."""


def insert_at_commit(session: AsyncSession, events: Sequence[PendingEvent]) -> None:
    """Queue one unit of work's events as one INSERT (rows, hence ids, in publication order) for the
    commit's batch of writes; the relay is woken after the commit (see `relay`)."""
    rows = ", ".join("(" + ", ".join(f"${5 * n + k}" for k in range(1, 6)) + ")" for n in range(len(events)))
    args = [
        value
        for kind, data, users, roles, at in events
        for value in (kind, json.dumps(data), users, roles, at)
    ]
    write_at_commit(
        session, f"INSERT INTO outbox (type, data, user_ids, roles, occurred_at) VALUES {rows}", *args
    )


# --- reads: replay, catch-up, fetch by reference ---------------------------------------------------------


async def replay(
    session: AsyncSession, *, user_id: uuid.UUID, role: str, since_id: int, limit: int
) -> list[Event]:
    """The last `limit` events addressed to the user or their role published after event `since_id`.

    `since_id` is translated to its publication position: a lower id that committed late was published
    after it and is therefore replayed, not skipped.
    """
    after = func.coalesce(
        select(outbox.c.position).where(outbox.c.id == since_id).scalar_subquery(),
        select(func.max(outbox.c.position)).where(outbox.c.id <= since_id).scalar_subquery(),
        0,
    )
    rows = (
        await session.execute(
            select(*_COLUMNS)
            .where(
                outbox.c.position > after,
                or_(outbox.c.user_ids.contains([user_id]), outbox.c.roles.contains([role])),
            )
            .order_by(outbox.c.position.desc())
            .limit(limit)
        )
    ).mappings()
    return [_event(row) for row in reversed(rows.all())]


async def positioned_after(session: AsyncSession, *, position: int, limit: int) -> list[Event]:
    """Events the relay has ordered after `position`: what a bus subscriber missed while disconnected."""
    rows = (
        await session.execute(
            select(*_COLUMNS).where(outbox.c.position > position).order_by(outbox.c.position).limit(limit)
        )
    ).mappings()
    return [_event(row) for row in rows]


async def event_by_id(session: AsyncSession, event_id: int) -> Event | None:
    row = (await session.execute(select(*_COLUMNS).where(outbox.c.id == event_id))).mappings().first()
    return _event(row) if row is not None and row["position"] is not None else None


# --- the relay's connection ------------------------------------------------------------------------------


async def wake_leader(conn: asyncpg.Connection) -> None:
    """Tell the leading relay (in another process) that events have committed; sent in autocommit on a
    follower's own connection."""
    await conn.execute("SELECT pg_notify($1, '')", WAKE_CHANNEL)


async def try_lead(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK))


async def claim(conn: asyncpg.Connection, limit: int) -> list[Event]:
    """The unpublished rows in publication order, numbering those not yet positioned (call in a transaction).

    Rows positioned earlier but never marked (a relay died mid-publish) come first, with their old
    positions, so a retry repeats exactly what subscribers may already have seen.
    """
    rows = await conn.fetch(
        """
        SELECT id, type, data, user_ids, roles, occurred_at, position
        FROM outbox WHERE published_at IS NULL
        ORDER BY position NULLS LAST, id
        LIMIT $1
        """,
        limit,
    )
    fresh = [row["id"] for row in rows if row["position"] is None]
    positions: dict[int, int] = {}
    if fresh:
        numbers = sorted(
            await conn.fetchval(
                "SELECT array_agg(nextval('outbox_position_seq')) FROM generate_series(1, $1)", len(fresh)
            )
        )
        positions = dict(zip(fresh, numbers, strict=True))
        await conn.execute(
            """
            UPDATE outbox SET position = v.position
            FROM unnest($1::bigint[], $2::bigint[]) AS v(id, position)
            WHERE outbox.id = v.id
            """,
            list(positions),
            list(positions.values()),
        )
    return [_event({**dict(row), "position": row["position"] or positions[row["id"]]}) for row in rows]


async def mark_published(conn: asyncpg.Connection, ids: Sequence[int]) -> None:
    await conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", list(ids))


async def prune(conn: asyncpg.Connection, *, older_than_days: int, batch: int) -> int:
    """Delete one batch of rows published more than `older_than_days` ago; returns how many."""
    status = await conn.execute(
        """
        DELETE FROM outbox WHERE id IN (
            SELECT id FROM outbox
            WHERE published_at < now() - make_interval(days => $1)
            LIMIT $2
        )
        """,
        older_than_days,
        batch,
    )
    return int(status.split()[-1])
