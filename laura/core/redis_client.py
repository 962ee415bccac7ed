"""The one place a Redis client is built. Redis is an optional extra (`pip install laura[redis]`): it is
imported here, only when a URL is configured, so a plain install never needs the package."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis


def redis_client(url: str | None) -> Redis | None:
    """A client for `url` (bytes in and out), or None without one; the caller closes it (`aclose()`)."""
    if not url:
        return None
    from redis.asyncio import Redis

    return Redis.from_url(url, decode_responses=False)
