"""Idempotency-Key: the same key and body replay the first response; a different body is 422; in flight, 409.

The key is claimed inside the request's own transaction: `idempotency_claim` (laura/core/sql) takes a
transaction-scoped advisory lock on (owner, key), which marks it in flight, and only then reads a stored
answer, with a snapshot taken after the lock, so the answer of a request that just finished is always
seen. The answer row is written by that same transaction, with its commit. So a committed effect always
has its stored answer, a request that fails leaves nothing behind but its refusal, and the protocol costs
one statement of its own (the answer joins the commit's batch of writes).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from pydantic import AfterValidator, BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import Database, SessionDep, after_rollback, execute, fetchrow, write_at_commit
from laura.core.errors import AppError, BadRequest, Conflict, ValidationFailed
from laura.core.observability import request_context
from laura.core.text import refuse_nul


class IdempotencyKeyReused(ValidationFailed):
    error = "IDEMPOTENCY_KEY_REUSED"
    message = "This Idempotency-Key was already used with a different request body"


class RequestInProgress(Conflict):
    error = "REQUEST_IN_PROGRESS"
    message = "A request with this Idempotency-Key is still being processed"


class IdempotencyKeyRequired(BadRequest):
    error = "IDEMPOTENCY_KEY_REQUIRED"
    message = "This operation requires an Idempotency-Key header"


class IdempotentReplay(Exception):
    """Raised to short-circuit a request whose first answer is stored; the app renders it as-is."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body


def fingerprint(request: Request, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")) if body else ""
    except ValueError:
        canonical = body.decode("utf-8", "replace")
    material = f"{request.method} {request.url.path}\n{canonical}"
    return hashlib.sha256(material.encode()).hexdigest()


_CLAIM = "SELECT got, request_hash, response_status, response_body FROM idempotency_claim($1, $2, $3)"
"""Locks (owner, key) for this transaction, then reads a live stored answer (laura/core/sql/idempotency.sql)."""

_PURGE = """
WITH gone AS (
    DELETE FROM idempotency_keys
     WHERE (owner, key) IN (SELECT owner, key FROM idempotency_keys WHERE expires_at < $1 LIMIT $2)
 RETURNING 1)
SELECT count(*) FROM gone
"""


async def purge_expired(db: Database, *, now: datetime, batch: int = 10_000) -> int:
    """Delete the keys whose answer has expired (they no longer replay anything), a batch per statement so
    no transaction holds many row locks; returns how many went."""
    total = 0
    pool = await db.statement_pool()  # each batch one statement in autocommit
    while True:
        async with pool.acquire() as connection:
            deleted = int(await connection.fetchval(_PURGE, now, batch))
        total += deleted
        if deleted < batch:
            return total


ANSWER_SQL = "SELECT idempotency_store($1, $2, $3, $4, $5::jsonb, $6, $7)"
"""Stores the answer; an expired (or unfinished) row of the same key is replaced, a live one wins."""


def settle(got: bool, request_hash: str | None, status: int | None, body: Any, this_request: str) -> None:
    """Read a claim: return when this request may go ahead; otherwise raise what the caller gets instead
    (409 while another holds the key, the stored answer replayed, or 422 for another body)."""
    if not got:
        raise RequestInProgress()
    if request_hash is None:
        return
    if request_hash != this_request:
        raise IdempotencyKeyReused()
    raise IdempotentReplay(status or 200, body)


def answer_args(owner: str, key: str, request_hash: str, ttl: int, status: int, body: Any) -> tuple[Any, ...]:
    """`ANSWER_SQL`'s arguments: owner, key, request hash, status, JSON body, now, expiry."""
    now = datetime.now(UTC)
    return (owner, key, request_hash, status, json.dumps(body), now, now + timedelta(seconds=ttl))


def key_owner() -> str:
    """Whose key it is: the authenticated user, or the client's IP for an anonymous request."""
    ctx = request_context()
    return (ctx.user_id if ctx and ctx.user_id else None) or f"ip:{ctx.client_ip if ctx else ''}"


class _Claim:
    def __init__(self, request: Request, owner: str, key: str, request_hash: str, ttl: int) -> None:
        self.db = request.app.state.db
        self.owner, self.key, self.fingerprint, self.ttl = owner, key, request_hash, ttl

    async def acquire(self, session: AsyncSession) -> None:
        """Lock the key for this transaction, or answer: stored (replay / 422) or in flight elsewhere (409)."""
        row = await fetchrow(session, _CLAIM, self.owner, self.key, datetime.now(UTC))
        assert row is not None, "idempotency_claim answers one row"
        settle(
            row["got"], row["request_hash"], row["response_status"], row["response_body"], self.fingerprint
        )

    def complete(self, session: AsyncSession, status: int, body: Any) -> None:
        """Store the answer inside the business transaction (queued for its commit): it commits with the
        effect or not at all."""
        write_at_commit(session, ANSWER_SQL, *self._answer(status, body))

    def _answer(self, status: int, body: Any) -> tuple[Any, ...]:
        return answer_args(self.owner, self.key, self.fingerprint, self.ttl, status, body)

    def store_failure(self, session: AsyncSession, error: AppError, request_id: str | None) -> None:
        """A business refusal (4xx) is an answer too: written in a transaction of its own once the request's
        has rolled back (its claim and effects gone), unless a retry has stored an answer in between."""
        body = error.body(request_id)

        async def store() -> None:
            async with self.db.unit_of_work() as own:
                await execute(own, ANSWER_SQL, *self._answer(error.status, body))

        after_rollback(session, store)


def serialize_answer(result: Any) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json", by_alias=True)
    return jsonable_encoder(result, by_alias=True)


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Retry-safe key: the same key and body replay the first response for 24 h.",
    ),
    AfterValidator(refuse_nul),
]


async def run_once(
    request: Request,
    session: AsyncSession,
    key: str,
    request_hash: str,
    call: Callable[[], Awaitable[Any]],
    *,
    status: int,
    stored: Callable[[Any], Any] | None = None,
) -> Any:
    """The protocol around one call on the session path, for `@idempotent` and for a web form carrying its
    key in a field: claim the key (or raise `RequestInProgress`, `IdempotentReplay`, `IdempotencyKeyReused`),
    run `call`, and store its answer (`status`, the serialized result, or what `stored` keeps of it) or its
    4xx refusal with the session's commit. `request_hash` is `fingerprint(...)` of what makes two requests
    the same one."""
    ctx = request_context()
    claim = _Claim(
        request, key_owner(), key, request_hash, request.app.state.settings.idempotency_ttl_seconds
    )
    await claim.acquire(session)
    try:
        result = await call()
    except AppError as error:
        if error.status < 500:
            if error.commit_work:
                claim.complete(session, error.status, error.body(ctx.request_id if ctx else None))
            else:
                claim.store_failure(session, error, ctx.request_id if ctx else None)
        raise
    answer = serialize_answer(result)
    claim.complete(session, status, stored(answer) if stored is not None else answer)
    return result


def idempotent(
    *, required: bool = False, stored: Callable[[Any], Any] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a route (under `@router.post`) to honour `Idempotency-Key` as the wire contract says.

    The claim is taken after every dependency has run (so the owner is the authenticated user), and the
    answer is written with the route's own session before it commits. `stored` makes the kept answer from
    the serialized one, for an answer that must not be stored as it was sent (a new card's number and CVV):
    a replay then answers what `stored` kept.
    """

    def decorate(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(endpoint)
        extra = [
            inspect.Parameter("_idem_request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
            inspect.Parameter("_idem_session", inspect.Parameter.KEYWORD_ONLY, annotation=SessionDep),
            inspect.Parameter(
                "_idem_key", inspect.Parameter.KEYWORD_ONLY, annotation=IdempotencyKeyHeader, default=None
            ),
        ]

        @functools.wraps(endpoint)
        async def wrapper(
            *args: Any,
            _idem_request: Request,
            _idem_session: AsyncSession,
            _idem_key: str | None,
            **kwargs: Any,
        ) -> Any:
            if not _idem_key:
                if required:
                    raise IdempotencyKeyRequired()
                return await endpoint(*args, **kwargs)
            route = _idem_request.scope.get("route")
            return await run_once(
                _idem_request,
                _idem_session,
                _idem_key,
                fingerprint(_idem_request, await _idem_request.body()),
                lambda: endpoint(*args, **kwargs),
                status=getattr(route, "status_code", None) or 200,
                stored=stored,
            )

        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*signature.parameters.values(), *extra]
        )
        return wrapper

    return decorate
