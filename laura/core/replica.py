"""The read replica (`LAURA_READ_DATABASE_URL`): where a GET that may show data a moment old reads.

Only what a customer or an operator looks at goes there (statements, analytics, histories, reports), never
what a decision is taken from: a balance that allows a transfer, a limit, an idempotency key, a session, an
accept, a payout. Those read the primary in the request's own session (`SessionDep`), and so does every
request that is not a GET, whichever dependency its route names. docs/operations.md, "Read replica".
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import structlog
from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import READING_METHODS, Database, SessionDep

_log = structlog.get_logger("laura.replica")


async def _reachable(replica: AsyncSession) -> bool:
    """Whether the replica session gets a connection: a replica down (or not accepting connections yet)
    sends its reads to the primary rather than failing the page, and the warning says so."""
    try:
        await replica.connection()
    except (OSError, SQLAlchemyError) as exc:
        _log.warning("replica_unavailable", error=type(exc).__name__)
        return False
    return True


async def _replica_session(request: Request, session: SessionDep) -> AsyncIterator[AsyncSession]:
    """A GET's read-only session on the replica; without one configured (or unreachable), or for any other
    method, the request's own session, so such a request still holds one connection of one pool."""
    db: Database = request.app.state.db
    if not db.has_replica or request.method not in READING_METHODS:
        yield session
        return
    async with db.replica_sessionmaker() as replica:
        if await _reachable(replica):
            yield replica
            return
    yield session


ReplicaSessionDep = Annotated[AsyncSession, Depends(_replica_session, scope="function")]
"""For a GET that may read data as old as the replica's lag; see the module's docstring for what never may."""

_STANDBY = text("SELECT pg_is_in_recovery()")


async def replica_check(db: Database) -> str:
    """`/ready`'s word on the replica: "ok" (a standby answering), or what is wrong. It does not make the
    instance unready: while the replica is down its reads fall back to the primary. Its lag is the
    primary's to tell (`pg_stat_replication.replay_lag`): a standby's own view grows while nothing is written."""
    try:
        async with db.read_engine.connect() as conn:
            standby = await conn.scalar(_STANDBY)
    except (OSError, SQLAlchemyError) as exc:
        return f"error: {type(exc).__name__}"
    return "ok" if standby else "not a standby: LAURA_READ_DATABASE_URL names a primary"
