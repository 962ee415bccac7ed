"""Every audit query: the append function (chain head under an advisory lock), search and the chain walk."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit.models import AuditLog
from laura.core.db import execute, write_at_commit

_APPEND = "SELECT audit_append($1::smallint, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11, $12)"


def _append_args(row: dict, canonical: str) -> tuple:
    """`audit_append`'s arguments, in order, for a row and its canonical text."""
    return (
        row["chain"],
        row["occurred_at"],
        row["actor_id"],
        row["action"],
        row["resource_type"],
        row["resource_id"],
        json.dumps(row["old"]) if row["old"] is not None else None,
        json.dumps(row["new"]) if row["new"] is not None else None,
        row["ip"],
        row["user_agent"],
        row["request_id"],
        canonical,
    )


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    append_args = staticmethod(_append_args)

    async def append(self, rows: list[tuple[dict, str]]) -> None:
        """Append a unit of work's rows (each with its canonical text) to their chain. A single row is
        queued for the commit's batch of writes; several are appended one after another now, since each
        must read the chain head its predecessor wrote."""
        if len(rows) == 1:
            write_at_commit(self.session, _APPEND, *_append_args(*rows[0]))
            return
        for row, canonical in rows:
            await execute(self.session, _APPEND, *_append_args(row, canonical))

    async def search(
        self,
        *,
        actor_id: uuid.UUID | None,
        action: str | None,
        resource_type: str | None,
        resource_id: str | None,
        since: datetime | None,
        until: datetime | None,
        offset: int,
        limit: int,
    ) -> tuple[list[AuditLog], int]:
        query = select(AuditLog)
        for column, value in (
            (AuditLog.actor_id, actor_id),
            (AuditLog.action, action),
            (AuditLog.resource_type, resource_type),
            (AuditLog.resource_id, resource_id),
        ):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(AuditLog.occurred_at >= since)
        if until is not None:
            query = query.where(AuditLog.occurred_at < until)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await self.session.scalars(query.order_by(AuditLog.id.desc()).offset(offset).limit(limit))
        return list(rows), int(total or 0)

    async def walk(self, batch: int = 5000) -> AsyncIterator[AuditLog]:
        """Every row in chain order, in batches, so a long log does not sit in memory."""
        last_id = 0
        while True:
            rows = list(
                await self.session.scalars(
                    select(AuditLog).where(AuditLog.id > last_id).order_by(AuditLog.id).limit(batch)
                )
            )
            if not rows:
                return
            for row in rows:
                yield row
            last_id = rows[-1].id
            self.session.expunge_all()
