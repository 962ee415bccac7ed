"""Mobility fixtures: a `redis_url` that runs a test with and without Redis, and a clean GEO mirror."""

from __future__ import annotations

import os

import pytest
import redis

TEST_REDIS_URL = os.environ.get("LAURA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def clear_mobility_keys(url: str) -> None:
    """Each test has its own database; the shared Redis must not carry drivers over from another test."""
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match="{mobility}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(params=["postgres", "redis"])
def with_and_without_redis(request) -> str | None:
    """Parametrize a test over PostgreSQL alone and PostgreSQL + Redis (skipped when Redis is down)."""
    if request.param == "postgres":
        return None
    if not redis_reachable(TEST_REDIS_URL):
        pytest.skip(f"Redis not reachable at {TEST_REDIS_URL}")
    clear_mobility_keys(TEST_REDIS_URL)
    return TEST_REDIS_URL
