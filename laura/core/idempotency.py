"""Idempotency-Key: the same key and body replay the first response; a different body is 422; in flight, 409.

The key is claimed inside the request's own transaction: `idempotency_claim` (migration 0009) takes a
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
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Callable

from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import SessionDep, after_rollback, execute, fetchrow, write_at_commit
from laura.core.errors import AppError, BadRequest, Conflict, ValidationFailed
from laura.core.observability import request_context


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


def _fingerprint(request: Request, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")) if body else ""
    except ValueError:
        canonical = body.decode("utf-8", "replace")
    material = f"{request.method} {request.url.path}\n{canonical}"
    return hashlib.sha256(material.encode()).hexdigest()


_CLAIM = "SELECT got, request_hash, response_status, response_body FROM idempotency_claim($1, $2, $3)"
"""Locks (owner, key) for this transaction, then reads a live stored answer (migration 0009)."""

_ANSWER = """
INSERT INTO idempotency_keys AS k
       (owner, key, request_hash, status, response_status, response_body, locked_until, expires_at)
VALUES ($1, $2, $3, 'completed', $4, $5, $6, $7)
ON CONFLICT (owner, key) DO UPDATE
   SET request_hash = EXCLUDED.request_hash, status = 'completed', response_status = EXCLUDED.response_status,
       response_body = EXCLUDED.response_body, locked_until = EXCLUDED.locked_until,
       expires_at = EXCLUDED.expires_at, created_at = now()
 WHERE k.expires_at < $6 OR k.status <> 'completed'
"""
"""Stores the answer; an expired (or unfinished) row of the same key is replaced, a live one wins."""


class _Claim:
    def __init__(self, request: Request, owner: str, key: str, fingerprint: str, ttl: int) -> None:
        self.db = request.app.state.db
        self.owner, self.key, self.fingerprint, self.ttl = owner, key, fingerprint, ttl

    async def acquire(self, session: AsyncSession) -> None:
        """Lock the key for this transaction, or answer: stored (replay / 422) or in flight elsewhere (409)."""
        row = await fetchrow(session, _CLAIM, self.owner, self.key, datetime.now(UTC))
        if not row["got"]:
            raise RequestInProgress()
        if row["request_hash"] is None:
            return
        if row["request_hash"] != self.fingerprint:
            raise IdempotencyKeyReused()
        raise IdempotentReplay(row["response_status"], row["response_body"])

    def complete(self, session: AsyncSession, status: int, body: Any) -> None:
        """Store the answer inside the business transaction (queued for its commit): it commits with the
        effect or not at all."""
        write_at_commit(session, _ANSWER, *self._answer(status, body))

    def _answer(self, status: int, body: Any) -> tuple:
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=self.ttl)
        return (self.owner, self.key, self.fingerprint, status, json.dumps(body), now, expires)

    def store_failure(self, session: AsyncSession, error: AppError, request_id: str | None) -> None:
        """A business refusal (4xx) is an answer too: written in a transaction of its own once the request's
        has rolled back (its claim and effects gone), unless a retry has stored an answer in between."""
        body = error.body(request_id)

        async def store() -> None:
            async with self.db.unit_of_work() as own:
                await execute(own, _ANSWER, *self._answer(error.status, body))

        after_rollback(session, store)


def _serialize(result: Any) -> Any:
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
]


def idempotent(*, required: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a route (under `@router.post`) to honour `Idempotency-Key` as the wire contract says.

    The claim is taken after every dependency has run (so the owner is the authenticated user), and the
    answer is written with the route's own session before it commits.
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
        async def wrapper(*args: Any, _idem_request: Request, _idem_session: AsyncSession, _idem_key: str | None, **kwargs: Any) -> Any:
            if not _idem_key:
                if required:
                    raise IdempotencyKeyRequired()
                return await endpoint(*args, **kwargs)
            ctx = request_context()
            owner = (ctx.user_id if ctx and ctx.user_id else None) or f"ip:{ctx.client_ip if ctx else ''}"
            settings = _idem_request.app.state.settings
            claim = _Claim(
                _idem_request, owner, _idem_key, _fingerprint(_idem_request, await _idem_request.body()),
                settings.idempotency_ttl_seconds,
            )
            await claim.acquire(_idem_session)
            try:
                result = await endpoint(*args, **kwargs)
            except AppError as error:
                if error.status < 500:
                    if error.commit_work:
                        claim.complete(_idem_session, error.status, error.body(ctx.request_id if ctx else None))
                    else:
                        claim.store_failure(_idem_session, error, ctx.request_id if ctx else None)
                raise
            route = _idem_request.scope.get("route")
            claim.complete(_idem_session, getattr(route, "status_code", None) or 200, _serialize(result))
            return result

        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*signature.parameters.values(), *extra]
        )
        return wrapper

    return decorate
