"""Rate limits with `limits`: moving windows in Redis when configured (shared by all instances), else memory."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from laura.core.errors import RateLimited


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
