"""The budget summary's cache (spec: key `budget:{userId}`, 15 minutes) in Redis; without Redis, none.

Every write that changes a customer's spending or budgets drops the key after its commit. A summary being
computed while such a write commits would put back what it read before the write: so each drop also
bumps the customer's generation (`budget:{userId}:gen`), and a summary is stored only if the generation it
read before computing is still the current one (one Lua script, atomic in Redis). An entry also ends with
the earliest of its budgets' periods, so a new month never shows last month's spending.

The app's cache rides on its database's sessions (`session.info`, as the card issuer does), so the
spending hook, which is handed a session only, drops the key through the same client; elsewhere (a worker
running a job) a client of its own is opened for the drop.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import Database, after_commit
from laura.core.redis_client import redis_client

_SESSION_INFO = "laura.bank.budgets.cache"

_STORE_IF_CURRENT = """
if (redis.call('GET', KEYS[2]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
return 0
"""


def _key(user_id: uuid.UUID | str) -> str:
    return f"budget:{user_id}"


def _generation(user_id: uuid.UUID | str) -> str:
    return f"budget:{user_id}:gen"


class SummaryCache:
    def __init__(self, redis: Any | None, ttl_seconds: int) -> None:
        self.redis = redis
        self.ttl_seconds = ttl_seconds

    async def get(self, user_id: uuid.UUID, now: datetime) -> tuple[dict[str, Any] | None, str]:
        """The cached summary (None on a miss or past its period) and the generation to store one under."""
        if self.redis is None:
            return None, "0"
        raw, generation = await self.redis.mget(_key(user_id), _generation(user_id))
        generation = (generation or b"0").decode()
        if not raw:
            return None, generation
        entry = json.loads(raw)
        if now.timestamp() >= entry["validUntil"]:
            return None, generation
        return entry["summary"], generation

    async def put(
        self, user_id: uuid.UUID, summary: dict[str, Any], generation: str, valid_until: datetime
    ) -> None:
        if self.redis is None:
            return
        entry = json.dumps({"summary": summary, "validUntil": valid_until.timestamp()})
        await self.redis.eval(
            _STORE_IF_CURRENT, 2, _key(user_id), _generation(user_id), generation, entry, self.ttl_seconds
        )

    async def invalidate(self, user_id: uuid.UUID | str) -> None:
        if self.redis is not None:
            await _drop(self.redis, user_id, self.ttl_seconds)

    def invalidate_after_commit(self, session: AsyncSession, user_id: uuid.UUID | str) -> None:
        if self.redis is None:
            return

        async def drop() -> None:
            await self.invalidate(user_id)

        after_commit(session, drop)


async def _drop(redis: Any, user_id: uuid.UUID | str, ttl_seconds: int) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(_generation(user_id))
        pipe.expire(_generation(user_id), 2 * ttl_seconds)
        pipe.delete(_key(user_id))
        await pipe.execute()


def attach(db: Database, cache: SummaryCache) -> None:
    """Give `cache` to every session of `db` (the app's), beside what other features put there."""
    info = dict(db.sessionmaker.kw.get("info") or {})
    db.sessionmaker.configure(info={**info, _SESSION_INFO: cache})


def invalidate_after_commit(
    session: AsyncSession, user_id: uuid.UUID | str, redis_url: str | None, ttl_seconds: int
) -> None:
    """Drop the customer's summary once the session commits: through the app's cache when the session is
    the app's, else with a client of its own for `redis_url` (none: nothing to drop)."""
    cache: SummaryCache | None = session.info.get(_SESSION_INFO)
    if cache is not None:
        cache.invalidate_after_commit(session, user_id)
        return
    if not redis_url:
        return

    async def drop() -> None:
        redis = redis_client(redis_url)
        if redis is None:
            return
        try:
            await _drop(redis, user_id, ttl_seconds)
        finally:
            await redis.aclose()

    after_commit(session, drop)
