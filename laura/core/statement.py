"""The one-statement unit of work: a route whose whole business operation is one PL/pgSQL function call.

The session path (`SessionDep`, `@idempotent`, `audit.record`, `publish`) lets a service do many things in
one transaction that the session dependency commits. A hot path instead sends one statement in autocommit
(`one_statement`): the function checks, locks and writes everything itself, including the Idempotency-Key's
claim and answer, its audit row and its outbox events, in one round trip. This module is that path's whole
vocabulary: the call (`FunctionCall`, `DatabaseDep`), the key (`StatementIdempotency`, `idempotency_args`),
the audit row (`AUDIT_ARGS`, filled by `laura.audit`'s `AuditArguments`), the events (`statement_event_data`,
`statement_committed`). So a repository spells its function's parameters from core alone.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Protocol

import asyncpg
from fastapi import Depends, Request

from laura.core.db import Database
from laura.core.errors import AppError
from laura.core.events.event import jsonable
from laura.core.events.relay import wake_local
from laura.core.idempotency import (
    ANSWER_SQL,
    IdempotencyKeyHeader,
    IdempotencyKeyReused,
    RequestInProgress,
    answer_args,
    fingerprint,
    key_owner,
    serialize_answer,
    settle,
)
from laura.core.observability import request_context


async def one_statement(db: Database, sql: str, *args: Any) -> asyncpg.Record | None:
    """Run a whole unit of work written as one `$n` statement (typically a PL/pgSQL function that checks,
    locks and writes) in autocommit: it commits or rolls back on its own, in one round trip."""
    pool = await db.statement_pool()
    async with pool.acquire() as connection:
        return await connection.fetchrow(sql, *args)


async def one_statement_rows(db: Database, sql: str, *args: Any) -> list[asyncpg.Record]:
    """`one_statement` for a unit of work that answers with several rows (a set-returning function)."""
    pool = await db.statement_pool()
    async with pool.acquire() as connection:
        rows: list[asyncpg.Record] = await connection.fetch(sql, *args)
        return rows


class FunctionCall:
    """A PL/pgSQL function that is a whole unit of work, sent with `one_statement` and its arguments by name
    (`p_<name> => $n`): callers pass keywords, and a missing or unknown one fails before the database is
    asked, instead of shifting every argument after it."""

    def __init__(self, function: str, returns: str, arguments: tuple[str, ...]) -> None:
        self.arguments = arguments
        named = ", ".join(f"p_{name} => ${n}" for n, name in enumerate(arguments, start=1))
        self.sql = f"SELECT {returns} FROM {function}({named})"

    async def __call__(self, db: Database, **args: Any) -> asyncpg.Record:
        unknown = set(args) - set(self.arguments)
        if unknown:
            raise TypeError(f"unknown arguments: {sorted(unknown)}")
        row = await one_statement(db, self.sql, *(args[name] for name in self.arguments))
        assert row is not None
        return row


async def _database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


DatabaseDep = Annotated[Database, Depends(_database)]
"""The app's `Database`, for a route whose unit of work is one statement (`one_statement`)."""


class StatementKey:
    """The Idempotency-Key of a route whose whole unit of work is one statement.

    The statement itself claims the key first (`idempotency_claim`) and stores the answer with its writes
    (`idempotency_store`), so the protocol costs no round trip of its own. This object carries their
    arguments, reads the claim's outcome, and stores a refusal the route raises afterwards.
    """

    def __init__(self, request: Request, key: str, request_hash: str) -> None:
        route = request.scope.get("route")
        self.db = request.app.state.db
        self.key, self.fingerprint = key, request_hash
        self.ttl = request.app.state.settings.idempotency_ttl_seconds
        self.status = getattr(route, "status_code", None) or 200

    @property
    def owner(self) -> str:
        return key_owner()

    def settle(self, got: bool, request_hash: str | None, status: int | None, body: Any) -> None:
        """The statement's claim outcome: go on, or raise 409 / the replay / 422."""
        settle(got, request_hash, status, body, self.fingerprint)

    async def store_refusal(self, error: AppError) -> None:
        """A business refusal (4xx) is an answer too; its statement wrote nothing, so store it on its own.
        Not an answer: a dead session (401), the key's own outcomes (409, 422 for another body), a 5xx."""
        if (
            error.status >= 500
            or error.status == 401
            or isinstance(error, (RequestInProgress, IdempotencyKeyReused))
        ):
            return
        ctx = request_context()
        body = error.body(ctx.request_id if ctx else None)
        await one_statement(
            self.db,
            ANSWER_SQL,
            *answer_args(self.owner, self.key, self.fingerprint, self.ttl, error.status, body),
        )


IDEMPOTENCY_ARGS = ("idem_owner", "idem_key", "idem_hash", "idem_status", "idem_body", "idem_expires")
"""The names under which a one-statement function takes its Idempotency-Key's claim and answer (`p_idem_*`)."""


def idempotency_args(key: StatementKey | None, answer: Any) -> dict[str, Any]:
    """A one-statement route's `p_idem_*` arguments: claim `key` and store `answer` as its answer, or all
    NULL when the request has no Idempotency-Key."""
    if key is None:
        return dict.fromkeys(IDEMPOTENCY_ARGS)
    owner, name, request_hash, status, body, _, expires = answer_args(
        key.owner, key.key, key.fingerprint, key.ttl, key.status, serialize_answer(answer)
    )
    return dict(zip(IDEMPOTENCY_ARGS, (owner, name, request_hash, status, body, expires), strict=True))


async def _statement_key(request: Request, key: IdempotencyKeyHeader = None) -> StatementKey | None:
    if not key:
        return None
    return StatementKey(request, key, fingerprint(request, await request.body()))


StatementIdempotency = Annotated[StatementKey | None, Depends(_statement_key)]
"""`Idempotency-Key` for a one-statement route (None when the header is absent); see `StatementKey`."""


AUDIT_ARGS = (
    "audit_chain",
    "audit_occurred_at",
    "audit_actor",
    "audit_action",
    "audit_resource_type",
    "audit_resource_id",
    "audit_old",
    "audit_new",
    "audit_ip",
    "audit_user_agent",
    "audit_request_id",
    "audit_canonical",
)
"""The names under which a one-statement function takes the audit row it appends (`p_audit_*`, the
arguments of `audit_append`)."""


class AuditArguments(Protocol):
    """Builds a one-statement function's audit row as its `AUDIT_ARGS` arguments (the chain, the request's
    IP and ids, the canonical text the hash covers). `laura.audit.service.statement_args` implements it:
    core names the parameters, audit owns what goes in them."""

    def __call__(
        self,
        *,
        action: str,
        resource_type: str,
        resource_id: str | None = None,
        old: dict[str, Any] | None = None,
        new: dict[str, Any] | None = None,
        actor_id: Any = None,
        occurred_at: Any = None,
    ) -> dict[str, Any]: ...


def statement_event_data(data: dict[str, Any]) -> str:
    """An event's data as the outbox stores it (JSON text), for a one-statement unit of work that inserts
    its own events; call `statement_committed` once it has."""
    return json.dumps(jsonable(data))


def statement_committed() -> None:
    """Wake the relay after a one-statement unit of work that inserted events has committed, as `publish`
    does after a session's commit."""
    wake_local()
