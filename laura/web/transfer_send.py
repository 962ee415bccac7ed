"""The last step of a Pix or TED form: the money moves once per Idempotency-Key (`laura.web.once`), under
the API's per-hour limit, and every outcome is a page: the receipt, or the form again with a sentence."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.errors import AppError
from laura.core.idempotency import RequestInProgress
from laura.identity.service import Principal
from laura.web import forms, once
from laura.web.transfer_limits import limit_transfers


class Sent(Protocol):
    id: Any


async def send_once(
    request: Request,
    session: AsyncSession,
    user: Principal,
    *,
    key: str,
    values: dict[str, str],
    send: Callable[[], Awaitable[Sent]],
    refused: Callable[[forms.FormErrors, int], Response],
    errors_of: Callable[[str, Any], forms.FormErrors],
) -> Response:
    """Send, or replay what the key already sent; a refusal (429 included) reads as a sentence, never JSON."""
    try:
        await limit_transfers(request, user)
        sent = await once.once(
            request, session, key, once.form_fingerprint(request, values), send, status=201
        )
    except RequestInProgress:
        return refused(forms.from_code("REQUEST_IN_PROGRESS"), 409)
    except AppError as error:
        return refused(errors_of(error.error, error.details), error.status)
    if isinstance(sent, once.Replayed):
        if sent.status >= 300 or "id" not in sent.body:
            return refused(errors_of(str(sent.body.get("error", "")), sent.body.get("details")), sent.status)
        return RedirectResponse(f"/transfers/{sent.body['id']}", status_code=303)
    return RedirectResponse(f"/transfers/{sent.id}", status_code=303)
