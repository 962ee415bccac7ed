"""`record(...)` from any service; the rows are appended right before the caller's commit, in its transaction.

Appending last keeps the chain's advisory lock held only for the final insert and the commit, so audited
writes serialize on the chain for as short a time as possible.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit.models import AuditLog
from laura.audit.repository import AuditRepository
from laura.core.db import before_commit
from laura.core.observability import request_context

_PENDING = "audit_pending"


def _jsonable(value: Any) -> Any:
    """Values that survive a jsonb round trip unchanged, so the chain can be recomputed from the rows."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def canonical(row: dict[str, Any]) -> str:
    """The exact text the hash covers: every column but id and the hashes, as sorted compact JSON."""
    body = {
        "occurred_at": row["occurred_at"].astimezone(UTC).isoformat(),
        "actor_id": str(row["actor_id"]) if row["actor_id"] else None,
        "action": row["action"],
        "resource_type": row["resource_type"],
        "resource_id": row["resource_id"],
        "old": row["old"],
        "new": row["new"],
        "ip": row["ip"],
        "user_agent": row["user_agent"],
        "request_id": row["request_id"],
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str | None, canonical_text: str) -> str:
    return hashlib.sha256(((prev_hash or "") + canonical_text).encode("utf-8")).hexdigest()


def record(
    session: AsyncSession,
    *,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    actor_id: uuid.UUID | str | None = None,
) -> None:
    """Queue an audit row for this unit of work; it commits with the business change or not at all.

    Actor, IP, user agent and request id default to the current request's.
    """
    ctx = request_context()
    actor = actor_id or (ctx.user_id if ctx else None)
    row = {
        "occurred_at": datetime.now(UTC),
        "actor_id": uuid.UUID(str(actor)) if actor else None,
        "action": action,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "old": _jsonable(old),
        "new": _jsonable(new),
        "ip": ctx.client_ip if ctx else None,
        "user_agent": (ctx.user_agent or None) if ctx else None,
        "request_id": ctx.request_id if ctx else None,
    }
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []

        async def flush() -> None:
            repo = AuditRepository(session)
            for item in session.info.pop(_PENDING, []):
                await repo.append(item, canonical(item))

        before_commit(session, flush)
    pending.append(row)


@dataclass(frozen=True)
class ChainReport:
    rows: int
    first_broken_id: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def _row_dict(row: AuditLog) -> dict[str, Any]:
    return {
        "occurred_at": row.occurred_at,
        "actor_id": row.actor_id,
        "action": row.action,
        "resource_type": row.resource_type,
        "resource_id": row.resource_id,
        "old": row.old_values,
        "new": row.new_values,
        "ip": row.ip,
        "user_agent": row.user_agent,
        "request_id": row.request_id,
    }


async def verify_chain(session: AsyncSession) -> ChainReport:
    """Walk the log in order; name the first row whose link or content no longer matches its hash."""
    prev: str | None = None
    count = 0
    async for row in AuditRepository(session).walk():
        count += 1
        if row.prev_hash != prev:
            return ChainReport(count, row.id, "prev_hash does not match the previous row's hash")
        if chain_hash(prev, canonical(_row_dict(row))) != row.hash:
            return ChainReport(count, row.id, "row content does not match its hash")
        prev = row.hash
    return ChainReport(count, None, None)


async def search(session: AsyncSession, **filters: Any) -> tuple[list[AuditLog], int]:
    return await AuditRepository(session).search(**filters)
