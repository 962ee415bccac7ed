"""Mobility fixtures: a `redis_url` that runs a test with and without Redis, and a Redis namespace of the
test's own (the Redis server is shared by concurrent test runs, so nobody clears anyone else's keys)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from laura.settings import Settings
from tests.helpers import TEST_REDIS_URL, redis_reachable

__all__ = ["TEST_REDIS_URL", "redis_reachable"]


@pytest.fixture
def redis_namespace() -> Iterator[str]:
    """A namespace for this test's mobility keys, deleted afterwards."""
    namespace = f"mobility-test-{uuid.uuid4().hex[:12]}"
    yield namespace
    if redis_reachable(TEST_REDIS_URL):
        client = redis.Redis.from_url(TEST_REDIS_URL)
        keys = list(client.scan_iter(match=f"{{{namespace}}}:*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture
def settings(settings: Settings, redis_namespace: str) -> Settings:
    return settings.model_copy(update={"mobility_redis_namespace": redis_namespace})


@pytest.fixture(params=["postgres", "redis"])
def with_and_without_redis(request) -> str | None:
    """Parametrize a test over PostgreSQL alone and PostgreSQL + Redis (skipped when Redis is down)."""
    if request.param == "postgres":
        return None
    if not redis_reachable(TEST_REDIS_URL):
        pytest.skip(f"Redis not reachable at {TEST_REDIS_URL}")
    return TEST_REDIS_URL
