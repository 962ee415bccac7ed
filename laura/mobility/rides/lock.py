"""The first layer of flow 1: a short Redis lock per ride (`SET NX PX`), released only by its holder."""

from __future__ import annotations

import secrets
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RideLock:
    """Held while one accept of the ride commits; a competitor that cannot take it answers at once."""

    def __init__(self, redis: Redis, key: str, token: str) -> None:
        self.redis = redis
        self.key = key
        self.token = token

    @classmethod
    async def acquire(
        cls, redis: Redis, ride_id: uuid.UUID, ttl_ms: int, namespace: str, *, owner: str
    ) -> RideLock | None:
        """The lock, or None when another request holds it. The TTL frees it if its holder dies. `owner`
        names the request (its driver and Idempotency-Key), so a repeat of it can tell (`held_by`)."""
        lock = cls(redis, _key(namespace, ride_id), f"{owner}|{secrets.token_hex(16)}")
        return lock if await redis.set(lock.key, lock.token, nx=True, px=ttl_ms) else None

    @staticmethod
    async def held_by(redis: Redis, ride_id: uuid.UUID, namespace: str, owner: str) -> bool:
        """Whether the ride's lock is held by a request of this `owner`: a repeat of the holder's own request
        is no competitor, and must not be refused as one."""
        token = await redis.get(_key(namespace, ride_id))
        if isinstance(token, bytes):
            token = token.decode()
        return token is not None and token.rpartition("|")[0] == owner

    async def release(self) -> None:
        """Delete the key only if it is still ours (it may have expired and been taken by another)."""
        await self.redis.eval(_RELEASE, 1, self.key, self.token)


def _key(namespace: str, ride_id: uuid.UUID) -> str:
    return f"{{{namespace}}}:ride:{ride_id}:accept"
