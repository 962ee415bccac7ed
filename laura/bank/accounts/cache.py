"""Balance cache (spec: 5 minutes) in Redis, shared by every API instance; without Redis, no cache.

Reads fill it, every posting drops the touched customers' keys after its commit, so a customer never sees
a balance older than their own last write. Without Redis there is no cache at all: an in-process one could
not be invalidated on the other instances.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import after_commit
from laura.core.redis_client import redis_client

TTL_SECONDS = 300


def _key(user_id: uuid.UUID | str) -> str:
    return f"bank:balance:{user_id}"


class BalanceCache:
    def __init__(self, redis: Any | None) -> None:
        self.redis = redis

    async def get(self, user_id: uuid.UUID) -> dict[str, int] | None:
        if self.redis is None:
            return None
        raw = await self.redis.get(_key(user_id))
        return json.loads(raw) if raw else None

    async def put(self, user_id: uuid.UUID, value: dict[str, int]) -> None:
        if self.redis is not None:
            await self.redis.set(_key(user_id), json.dumps(value), ex=TTL_SECONDS)

    async def invalidate(self, *user_ids: uuid.UUID | str) -> None:
        """Drop the keys of a posting that has committed (never before: a read in between would refill it)."""
        if self.redis is not None:
            await self.redis.delete(*(_key(user_id) for user_id in user_ids))

    def invalidate_after_commit(self, session: AsyncSession, *user_ids: uuid.UUID | str) -> None:
        """`invalidate` once the session's transaction has committed."""
        if self.redis is None:
            return

        async def drop() -> None:
            await self.invalidate(*user_ids)

        after_commit(session, drop)


def invalidate_balances_after_commit(
    session: AsyncSession, redis_url: str | None, *user_ids: uuid.UUID | str
) -> None:
    """For work outside a request (jobs): `drop_balances` once the session's transaction has committed."""
    if not redis_url:
        return

    async def drop() -> None:
        await drop_balances(redis_url, *user_ids)

    after_commit(session, drop)


async def drop_balances(redis_url: str | None, *user_ids: uuid.UUID | str) -> None:
    """Drop the keys of a committed posting made outside a request (jobs, Pix effects), with a Redis client
    of its own, opened and closed here."""
    redis = redis_client(redis_url)
    if redis is None:
        return
    try:
        await redis.delete(*(_key(user_id) for user_id in user_ids))
    finally:
        await redis.aclose()
