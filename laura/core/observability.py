"""Structured JSON logs, the per-request context (request id, user, client IP) and Prometheus metrics."""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from ipaddress import ip_address
from typing import TypeGuard
from urllib.parse import parse_qsl

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.typing import Processor

from laura.core.error_reporting import report_exception
from laura.core.errors import AppError, InternalError, PayloadTooLarge, ValidationFailed
from laura.core.proxies import TrustedProxies
from laura.core.redaction import install_filter, redact_event
from laura.core.text import NUL, nul_detail
from laura.core.tracing import add_trace_ids

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "HTTP request duration",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

_errors_log = structlog.get_logger("laura.errors")


@dataclass
class RequestContext:
    """What every log line, audit row and error body of one request needs to know."""

    request_id: str
    client_ip: str | None = None
    user_agent: str | None = None
    user_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


current_request: ContextVar[RequestContext | None] = ContextVar("current_request", default=None)


def request_context() -> RequestContext | None:
    return current_request.get()


def configure_logging(
    level: str = "INFO", json_logs: bool = True, *, access_log: bool = False, trace_ids: bool = False
) -> None:
    """One JSON (or console) renderer, secrets redacted (`core.redaction`), for structlog and for stdlib
    loggers (uvicorn, Procrastinate, SQLAlchemy) alike; uvicorn's access log only when `access_log`; the
    active span's ids on each line with `trace_ids` (tracing on, `core.tracing`)."""
    renderer = structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer()
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if trace_ids:
        shared.append(add_trace_ids)
    finish: list[Processor] = [structlog.processors.format_exc_info, redact_event, renderer]
    structlog.configure(
        processors=[*shared, *finish],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(),  # the sys.stdout of the moment, not of configuration
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *finish],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
        install_filter(logging.getLogger(name))
    logging.getLogger("uvicorn.access").setLevel(logging.INFO if access_log else logging.WARNING)


def _header(scope: Scope, name: bytes) -> str | None:
    key: bytes
    value: bytes
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def client_ip(scope: Scope, trusted_proxies: TrustedProxies) -> str | None:
    """The peer's address, or the nearest untrusted hop of X-Forwarded-For when the peer is a trusted proxy."""
    peer = (scope.get("client") or (None,))[0]
    forwarded = _header(scope, b"x-forwarded-for")
    if peer in trusted_proxies and forwarded:
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            try:
                ip_address(hop)
            except ValueError:
                break
            if hop not in trusted_proxies:
                return hop
    return peer


def _valid_request_id(value: str | None) -> TypeGuard[str]:
    return value is not None and 0 < len(value) <= 128 and value.isprintable()


def _text_refusal(scope: Scope) -> ValidationFailed | None:
    """A NUL character in a query parameter or in the path, refused for every route at once (PostgreSQL
    text cannot hold it, `core.text`); bodies are checked by `RequestModel`, and HTTP servers refuse a NUL
    in a header themselves."""
    query: bytes = scope.get("query_string", b"")
    path: str = scope.get("path", "")
    if b"%00" not in query and b"\x00" not in query and NUL not in path:
        return None
    details = [
        nul_detail(name.replace(NUL, "") or "query")
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        if NUL in name or NUL in value
    ]
    if NUL in path:
        details.append(nul_detail("path"))
    return ValidationFailed(details=details) if details else None


async def _answer(send: Send, error: AppError, request_id: str) -> None:
    """Answer a refusal made here, before (or instead of) the app, in the one error shape."""
    body = json.dumps(error.body(request_id), separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Pure ASGI: request id in and out, body size limit, NUL refusal, one log line and metrics per request.

    It is also the last resort for an unexpected error: the 500 is answered here, inside the request's
    context, so it carries the request's own id in its body and header and the error's log line has it
    (Starlette's catch-all runs outside every middleware, after the context is gone)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        trusted_proxies: list[str],
        max_body_bytes: int,
        body_limits: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.trusted_proxies = TrustedProxies(trusted_proxies)
        self.max_body_bytes = max_body_bytes
        self.body_limits = body_limits or {}
        """Paths with a body limit of their own instead of `max_body_bytes` (an upload route's)."""
        self.log = structlog.get_logger("laura.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        ctx = RequestContext(
            request_id=incoming if _valid_request_id(incoming) else uuid.uuid4().hex,
            client_ip=client_ip(scope, self.trusted_proxies),
            user_agent=_header(scope, b"user-agent"),
        )
        token = current_request.set(ctx)
        structlog.contextvars.bind_contextvars(request_id=ctx.request_id)
        try:
            if scope["type"] == "websocket":
                await self.app(scope, receive, send)
            else:
                await self._http(scope, receive, send, ctx)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
            current_request.reset(token)

    async def _http(self, scope: Scope, receive: Receive, send: Send, ctx: RequestContext) -> None:
        started = time.perf_counter()
        response = {"status": 500, "started": False}
        request_id_header = (b"x-request-id", ctx.request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"], response["started"] = message["status"], True
                message["headers"] = [*message.get("headers", []), request_id_header]
            await send(message)

        try:
            refusal: AppError | None = _text_refusal(scope)
            declared = _header(scope, b"content-length")
            limit = self.body_limits.get(scope.get("path", ""), self.max_body_bytes)
            if refusal is None and declared and declared.isdigit() and int(declared) > limit:
                refusal = PayloadTooLarge()
            if refusal is None and declared is None and scope.get("method") in ("POST", "PUT", "PATCH"):
                buffered = await self._buffer_chunked(receive, limit)
                if buffered is None:
                    refusal = PayloadTooLarge()
                else:
                    receive = buffered
            if refusal is not None:
                await _answer(send_with_id, refusal, ctx.request_id)
                return
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            _errors_log.exception("unhandled_error", exc_type=type(exc).__name__)
            report_exception(exc, request_id=ctx.request_id)
            if response["started"]:
                raise  # too late for an answer: the server drops the connection
            await _answer(send_with_id, InternalError(), ctx.request_id)
        finally:
            self._observe(scope, ctx, response["status"], started)

    async def _buffer_chunked(self, receive: Receive, limit: int) -> Receive | None:
        """A body without Content-Length is read up front (at most the limit) so an oversized one gets 413."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                return None
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay

    def _observe(self, scope: Scope, ctx: RequestContext, status: int, started: float) -> None:
        elapsed = time.perf_counter() - started
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        method = scope.get("method", "GET")
        HTTP_REQUESTS.labels(method, route, str(status)).inc()
        HTTP_DURATION.labels(method, route, str(status)).observe(elapsed)
        self.log.info(
            "request",
            method=method,
            route=route,
            path=scope.get("path"),
            status=status,
            duration_ms=round(elapsed * 1000, 2),
            user_id=ctx.user_id,
            client_ip=ctx.client_ip,
        )
