"""What a PSP call raises: the PSP refused (`PspError`, 502) or cannot be reached (`PspUnavailable`, 503)."""

from __future__ import annotations

from typing import Any

import httpx

from laura.core.errors import AppError, ExternalServiceError


class PspError(AppError):
    """The PSP answered but refused the request; carries its status and its own `nome`/`mensagem`."""

    error = "PSP_ERROR"
    status = 502
    code = "PSP_001"
    message = "The payment provider refused the request"

    def __init__(
        self,
        message: str | None = None,
        *,
        psp_status: int | None = None,
        psp_error: str | None = None,
    ) -> None:
        details = {"pspStatus": psp_status, "pspError": psp_error} if psp_status is not None else None
        super().__init__(message, details=details)
        self.psp_status = psp_status
        self.psp_error = psp_error


class PspUnavailable(ExternalServiceError):
    """The PSP is down, slow or failing (transport errors, 5xx, or the circuit breaker is open)."""

    error = "EXTERNAL_SERVICE_ERROR"
    status = 503
    code = "PSP_002"
    message = "The payment provider is unavailable"


class PspServerError(Exception):
    """Internal to the client: a 5xx answer, retried where safe, then surfaced as `PspUnavailable`."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"PSP answered {response.status_code}")
        self.response = response


def psp_error_from(response: httpx.Response) -> PspError:
    """Build a `PspError` from an Efí error body (`nome`/`mensagem`) or a BCB problem+json body."""
    body: Any
    try:
        body = response.json()
    except ValueError:
        body = None
    name = message = None
    if isinstance(body, dict):
        name = body.get("nome") or body.get("title") or body.get("error")
        message = body.get("mensagem") or body.get("detail") or body.get("error_description")
    return PspError(
        str(message or f"The payment provider answered HTTP {response.status_code}"),
        psp_status=response.status_code,
        psp_error=str(name) if name else None,
    )
