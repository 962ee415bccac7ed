"""Idempotency-Key: the same key and body replay the first response; a different body is 422; in flight, 409.

The response is stored in the same transaction as the business effect, so a committed effect always has
its stored answer, and a claim whose transaction never committed can be taken over after a short lease.
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
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import SessionDep
from laura.core.errors import AppError, BadRequest, Conflict, ValidationFailed
from laura.core.observability import request_context

IN_FLIGHT_LEASE = timedelta(seconds=60)


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


class _Claim:
    def __init__(self, request: Request, owner: str, key: str, fingerprint: str, ttl: int) -> None:
        self.db = request.app.state.db
        self.owner, self.key, self.fingerprint, self.ttl = owner, key, fingerprint, ttl

    async def acquire(self) -> None:
        """Insert the in-flight row in its own short transaction, or decide replay / conflict / takeover."""
        now = datetime.now(UTC)
        async with self.db.engine.connect() as raw:
            conn = await raw.execution_options(isolation_level="AUTOCOMMIT")
            # One statement in its own implicit transaction: a single round trip. The claim needs no WAL
            # flush of its own (set_config is local to that transaction): WAL is flushed in order, so the
            # business commit that later stores the answer makes this row durable too, and a lost claim is
            # only a lost lock.
            row = (
                await conn.execute(
                    text(
                        """
                        INSERT INTO idempotency_keys AS k (owner, key, request_hash, status, locked_until, expires_at)
                        SELECT :owner, :key, :hash, 'in_progress', :lease, :expires
                          FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
                        ON CONFLICT (owner, key) DO UPDATE
                           SET request_hash = EXCLUDED.request_hash, status = 'in_progress',
                               locked_until = EXCLUDED.locked_until, expires_at = EXCLUDED.expires_at,
                               response_status = NULL, response_body = NULL, created_at = now()
                         WHERE k.expires_at < :now
                            OR (k.status = 'in_progress' AND k.locked_until < :now AND k.request_hash = :hash)
                        RETURNING owner
                        """
                    ),
                    {
                        "owner": self.owner,
                        "key": self.key,
                        "hash": self.fingerprint,
                        "lease": now + IN_FLIGHT_LEASE,
                        "expires": now + timedelta(seconds=self.ttl),
                        "now": now,
                    },
                )
            ).first()
            if row is not None:
                return
            existing = (
                await conn.execute(
                    text(
                        "SELECT request_hash, status, response_status, response_body FROM idempotency_keys"
                        " WHERE owner = :owner AND key = :key"
                    ),
                    {"owner": self.owner, "key": self.key},
                )
            ).one()
        if existing.request_hash != self.fingerprint:
            raise IdempotencyKeyReused()
        if existing.status == "in_progress":
            raise RequestInProgress()
        raise IdempotentReplay(existing.response_status, existing.response_body)

    async def complete(self, session: AsyncSession, status: int, body: Any) -> None:
        """Store the answer inside the business transaction: it commits with the effect or not at all."""
        await session.execute(
            text(
                "UPDATE idempotency_keys SET status = 'completed', response_status = :status,"
                " response_body = CAST(:body AS jsonb) WHERE owner = :owner AND key = :key"
            ),
            {"status": status, "body": json.dumps(body), "owner": self.owner, "key": self.key},
        )

    async def store_failure(self, error: AppError, request_id: str | None) -> None:
        """A business refusal (4xx) is an answer too: replay it, in a transaction of its own."""
        async with self.db.engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE idempotency_keys SET status = 'completed', response_status = :status,"
                    " response_body = CAST(:body AS jsonb) WHERE owner = :owner AND key = :key"
                ),
                {
                    "status": error.status,
                    "body": json.dumps(error.body(request_id)),
                    "owner": self.owner,
                    "key": self.key,
                },
            )

    async def release(self) -> None:
        """An unexpected failure leaves no answer: free the key so the client's retry runs again."""
        async with self.db.engine.begin() as conn:
            await conn.execute(
                text("DELETE FROM idempotency_keys WHERE owner = :owner AND key = :key AND status = 'in_progress'"),
                {"owner": self.owner, "key": self.key},
            )


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
            await claim.acquire()
            try:
                result = await endpoint(*args, **kwargs)
            except AppError as error:
                if error.status < 500:
                    await claim.store_failure(error, ctx.request_id if ctx else None)
                else:
                    await claim.release()
                raise
            except BaseException:
                await claim.release()
                raise
            route = _idem_request.scope.get("route")
            await claim.complete(_idem_session, getattr(route, "status_code", None) or 200, _serialize(result))
            return result

        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*signature.parameters.values(), *extra]
        )
        return wrapper

    return decorate
