"""Rate limits with `limits`: moving windows in Redis when configured (shared by all instances), else memory."""

from __future__ import annotations

import math
import re
import time

from fastapi.responses import JSONResponse
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from laura.core.errors import AppError, RateLimited
from laura.core.observability import request_context


class RateLimiter:
    """`hit` counts one event against a named limit and raises 429 with Retry-After once it is spent."""

    def __init__(self, *, redis_url: str | None, enabled: bool = True) -> None:
        storage: Storage = (
            RedisStorage(redis_url.replace("redis://", "async+redis://", 1), implementation="redispy")
            if redis_url
            else MemoryStorage()
        )
        self.enabled = enabled
        self._limiter = MovingWindowRateLimiter(storage)
        self._items: dict[str, RateLimitItem] = {}

    def _item(self, spec: str) -> RateLimitItem:
        item = self._items.get(spec)
        if item is None:
            item = self._items[spec] = parse(spec)
        return item

    async def _retry_after(self, item: RateLimitItem, key: str) -> int:
        stats = await self._limiter.get_window_stats(item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def hit(self, spec: str, key: str, message: str | None = None) -> None:
        """Count one event for `key`; raise RateLimited when the window for `spec` is already full."""
        if not self.enabled:
            return
        item = self._item(spec)
        if not await self._limiter.hit(item, key):
            raise RateLimited(await self._retry_after(item, key), message)

    async def check(self, spec: str, key: str, message: str | None = None) -> None:
        """Raise RateLimited if `key` has no room left, without counting (e.g. before a login attempt)."""
        if not self.enabled:
            return
        item = self._item(spec)
        if not await self._limiter.test(item, key):
            raise RateLimited(await self._retry_after(item, key), message)

    async def reset(self, spec: str, key: str) -> None:
        await self._limiter.clear(self._item(spec), key)


class DefaultLimitMiddleware:
    """Pure ASGI: the per-client-IP default limit (`rate_limit_default`) in front of every route but the
    exempt ones (probes, docs, webhooks, and routes with a per-user limit of their own). Pure ASGI rather
    than `@app.middleware("http")`, whose request/response streaming costs every request a task of its own."""

    def __init__(
        self, app: ASGIApp, *, exempt_prefixes: tuple[str, ...], exempt_paths: re.Pattern[str]
    ) -> None:
        self.app = app
        self.exempt_prefixes = exempt_prefixes
        self.exempt_paths = exempt_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(self.exempt_prefixes) or self.exempt_paths.match(path):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        ctx = request_context()
        try:
            await state.limiter.hit(
                state.settings.rate_limit_default, f"ip:{(ctx.client_ip if ctx else None) or 'unknown'}"
            )
        except AppError as exc:
            refusal = JSONResponse(
                exc.body(ctx.request_id if ctx else None), status_code=exc.status, headers=exc.headers
            )
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)
