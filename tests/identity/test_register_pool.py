"""Sign-ups hash their password without holding a database connection: a burst of them cannot starve the
pool while argon2 waits its turn in the thread pool."""

from __future__ import annotations

import asyncio
import threading
import uuid

import httpx
import pytest

from laura.app import create_app
from laura.core import security
from laura.identity import service as identity_service

SIGN_UPS = 3


@pytest.fixture
def one_connection(settings):
    return settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0})


async def test_concurrent_sign_ups_hash_side_by_side_on_a_pool_of_one_connection(one_connection, monkeypatch):
    # Every hash waits until all the sign-ups are hashing at once: possible only if none of them holds the
    # pool's one connection meanwhile. Had a sign-up hashed after its first query, the others would queue for
    # the connection, the barrier would break after its timeout and the sign-ups would fail.
    barrier = threading.Barrier(SIGN_UPS, timeout=10)

    def hash_together(password: str) -> str:
        barrier.wait()
        return security.hash_password(password)

    monkeypatch.setattr(identity_service, "hash_password", hash_together)
    app = create_app(one_connection)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            answers = await asyncio.gather(
                *(
                    client.post(
                        "/auth/register",
                        json={
                            "email": f"burst-{uuid.uuid4().hex[:8]}@example.com",
                            "password": "s3cret-passw0rd",
                            "name": "Burst",
                            "userType": "customer",
                        },
                    )
                    for _ in range(SIGN_UPS)
                )
            )
    assert [answer.status_code for answer in answers] == [201] * SIGN_UPS, [a.text for a in answers]
    assert not barrier.broken
