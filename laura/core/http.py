"""Exception handlers that give every failure the one JSON error shape, plus security headers."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from laura.core.errors import AppError
from laura.core.idempotency import IdempotentReplay
from laura.core.observability import request_context

_log = structlog.get_logger("laura.errors")

_HTTP_ERRORS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}


def _request_id() -> str | None:
    ctx = request_context()
    return ctx.request_id if ctx else None


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(loc[0] if loc else "body")


async def _app_error(_: Request, exc: AppError) -> JSONResponse:
    if exc.status >= 500:
        _log.error("app_error", error=exc.error, message=exc.message)
    return JSONResponse(exc.body(_request_id()), status_code=exc.status, headers=exc.headers)


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    details = []
    for err in exc.errors():
        message = err.get("msg", "invalid")
        if err.get("type") == "json_invalid":
            message = "Malformed JSON body"
        details.append(
            {"field": _field(tuple(err.get("loc", ()))), "message": message, "type": err.get("type")}
        )
    body = {
        "error": "VALIDATION_ERROR",
        "message": "Request validation failed",
        "details": details,
        "requestId": _request_id(),
    }
    return JSONResponse(body, status_code=422)


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    error = _HTTP_ERRORS.get(exc.status_code, "HTTP_ERROR")
    message = exc.detail if isinstance(exc.detail, str) else error
    if exc.status_code == 404 and message == "Not Found":
        message = "Route not found"
    body = {"error": error, "message": message, "requestId": _request_id()}
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


async def _replay(_: Request, exc: IdempotentReplay) -> JSONResponse:
    return JSONResponse(exc.body, status_code=exc.status, headers={"Idempotent-Replayed": "true"})


def install_error_handlers(app: FastAPI) -> None:
    """The known failures; an unexpected one is answered by `RequestContextMiddleware`, inside the request's
    context (a handler for `Exception` here would run outside every middleware, without the request id)."""
    # FastAPI's decorator form registers the same handlers; it is typed for handlers of a narrower
    # exception than starlette's `add_exception_handler` signature (Exception) admits
    app.exception_handler(AppError)(_app_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.exception_handler(StarletteHTTPException)(_http_error)
    app.exception_handler(IdempotentReplay)(_replay)


_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeadersMiddleware:
    """Pure ASGI: adds the usual hardening headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)
