"""A form's Idempotency-Key on the session path: the key is a hidden field made when the form was rendered,
and the protocol is core's `run_once`, the one `@idempotent` runs for the API. So a double click or a
refresh of a form that creates something (a virtual card, a budget, a ticket) creates it once: a repeat
waits for the first to finish, then gets its stored answer (`Replayed`) instead of a second effect.

The request's fingerprint is of the form's fields (the CSRF token aside) and its files' contents, not of
the raw body: a browser sends a multipart body with a new boundary each time."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import rollback
from laura.core.errors import AppError
from laura.core.idempotency import IdempotentReplay, RequestInProgress, fingerprint, run_once

_WAITS = 40
_STEP_SECONDS = 0.25
"""A repeat waits up to 10 s for the first request with its key, as the P2P confirmation does."""


@dataclass(frozen=True)
class Replayed:
    """The stored answer of the first request with this key: its status and JSON body."""

    status: int
    body: dict[str, Any]


def new_key() -> str:
    return str(uuid.uuid4())


def valid_key(value: object) -> str | None:
    """The form's key when it is a UUID (what `new_key` makes), else None."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def form_fingerprint(request: Request, fields: Mapping[str, str], files: tuple[bytes, ...] = ()) -> str:
    digests = [hashlib.sha256(content).hexdigest() for content in files]
    material = json.dumps({"fields": dict(fields), "files": digests}, sort_keys=True)
    return fingerprint(request, material.encode())


async def once(
    request: Request,
    session: AsyncSession,
    key: str,
    request_hash: str,
    call: Callable[[], Awaitable[Any]],
    *,
    status: int,
    stored: Callable[[Any], Any] | None = None,
) -> Any:
    """`call`'s result, or `Replayed` when this key has an answer already; raises `RequestInProgress` when
    the first request is still running after the wait, `IdempotencyKeyReused` for other fields, and the
    service's `AppError` (stored as this key's answer, as the API stores it)."""
    for _ in range(_WAITS):
        try:
            return await run_once(request, session, key, request_hash, call, status=status, stored=stored)
        except IdempotentReplay as replay:
            return Replayed(replay.status, replay.body if isinstance(replay.body, dict) else {})
        except RequestInProgress:
            await asyncio.sleep(_STEP_SECONDS)
        except AppError as error:
            await undo(session, error)
            raise
    raise RequestInProgress()


async def undo(session: AsyncSession, error: AppError) -> None:
    """A refusal a page shows (instead of raising it) rolls back what the service wrote before refusing,
    as the session dependency does when an API route raises; the refusal's own after-rollback work (its
    stored Idempotency-Key answer) runs then."""
    if not error.commit_work:
        await rollback(session)
