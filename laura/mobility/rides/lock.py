"""The first layer of flow 1: a short Redis lock per ride (`SET NX PX`), released only by its holder."""

from __future__ import annotations

import secrets
import uuid

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RideLock:
    """Held while one accept of the ride commits; a competitor that cannot take it answers at once."""

    def __init__(self, redis, key: str, token: str) -> None:  # type: ignore[no-untyped-def]
        self.redis = redis
        self.key = key
        self.token = token

    @classmethod
    async def acquire(  # type: ignore[no-untyped-def]
        cls, redis, ride_id: uuid.UUID, ttl_ms: int, namespace: str = "mobility"
    ) -> RideLock | None:
        """The lock, or None when another request holds it. The TTL frees it if its holder dies."""
        lock = cls(redis, f"{{{namespace}}}:ride:{ride_id}:accept", secrets.token_hex(16))
        return lock if await redis.set(lock.key, lock.token, nx=True, px=ttl_ms) else None

    async def release(self) -> None:
        """Delete the key only if it is still ours (it may have expired and been taken by another)."""
        await self.redis.eval(_RELEASE, 1, self.key, self.token)
