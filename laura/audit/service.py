"""`record(...)` from any service; the rows are appended right before the caller's commit, in its transaction.

The log is AUDIT_CHAINS independent hash chains: each unit of work appends to one chain picked at random,
under that chain's advisory lock, held from the last insert until the commit. One global chain would put
every audited transaction in a single queue through its commit (and its WAL flush); with several, commits
of different chains overlap and PostgreSQL flushes them together. Each chain is verified on its own.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
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
from laura.core.statement import AUDIT_ARGS

_PENDING = "audit_pending"
AUDIT_CHAINS = 64


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
        "chain": row["chain"],
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
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        chain = secrets.randbelow(AUDIT_CHAINS)

        async def flush() -> None:
            items = session.info.pop(_PENDING, [])
            await AuditRepository(session).append([(item, canonical(item)) for item in items])

        before_commit(session, flush)
    else:
        chain = pending[0]["chain"]
    pending.append(
        entry(
            chain=chain,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            old=old,
            new=new,
            actor_id=actor_id,
        )
    )


def entry(
    *,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    actor_id: uuid.UUID | str | None = None,
    chain: int | None = None,
    occurred_at: datetime | None = None,
) -> dict[str, Any]:
    """One audit row as it will be hashed and stored; actor, IP, user agent and request id default to the
    current request's, the chain to a random one."""
    ctx = request_context()
    actor = actor_id or (ctx.user_id if ctx else None)
    return {
        "chain": secrets.randbelow(AUDIT_CHAINS) if chain is None else chain,
        "occurred_at": occurred_at or datetime.now(UTC),
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


def statement_args(
    *,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    actor_id: uuid.UUID | str | None = None,
    occurred_at: datetime | None = None,
) -> dict[str, Any]:
    """`core.statement.AuditArguments`: the row `entry` builds, as the `AUDIT_ARGS` arguments of a statement
    that appends it itself (`bank_p2p_send`, `ride_accept`)."""
    row = entry(
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        old=old,
        new=new,
        actor_id=actor_id,
        occurred_at=occurred_at,
    )
    return dict(zip(AUDIT_ARGS, AuditRepository.append_args(row, canonical(row)), strict=True))


def statement_context() -> str:
    """For SQL that builds its audit rows itself (`audit_append_row`, e.g. a Pix purpose's effect): the chain
    to append to, picked at random, and the current request's IP, user agent and request id, as the JSON text
    of a jsonb argument."""
    ctx = request_context()
    return json.dumps(
        {
            "chain": random.randrange(AUDIT_CHAINS),  # spreads appenders over the chains; nothing secret
            "ip": ctx.client_ip if ctx else None,
            "user_agent": (ctx.user_agent or None) if ctx else None,
            "request_id": ctx.request_id if ctx else None,
        }
    )


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
        "chain": row.chain,
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
    """Walk the log in order, each chain on its own; name the first row whose link to the previous row of
    its chain, or whose content, no longer matches its hash."""
    heads: dict[int, str] = {}
    count = 0
    async for row in AuditRepository(session).walk():
        count += 1
        prev = heads.get(row.chain)
        if row.prev_hash != prev:
            return ChainReport(count, row.id, "prev_hash does not match the previous row's hash")
        if chain_hash(prev, canonical(_row_dict(row))) != row.hash:
            return ChainReport(count, row.id, "row content does not match its hash")
        heads[row.chain] = row.hash
    return ChainReport(count, None, None)


async def search(session: AsyncSession, **filters: Any) -> tuple[list[AuditLog], int]:
    return await AuditRepository(session).search(**filters)
