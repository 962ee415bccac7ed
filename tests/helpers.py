"""Small helpers shared by tests: make users and log them in over HTTP; find the test Redis."""

from __future__ import annotations

import os
import random
import uuid

import httpx
import redis

from laura.core.documents import cpf_check_digits

TEST_REDIS_URL = os.environ.get("LAURA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_reachable(url: str) -> bool:
    """Whether a Redis answers at `url`; tests of Redis-only behaviour skip without one (a new user has none)."""
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def random_cpf() -> str:
    while True:
        body = "".join(random.choice("0123456789") for _ in range(9))
        if body != body[0] * 9:
            return body + cpf_check_digits(body)


async def register(client: httpx.AsyncClient, *, user_type: str = "customer", **extra) -> dict:
    email = extra.pop("email", f"user-{uuid.uuid4().hex[:10]}@example.com")
    body = {
        "email": email,
        "password": "s3cret-passw0rd",
        "name": "Test User",
        "userType": user_type,
        **extra,
    }
    response = await client.post("/auth/register", json=body)
    assert response.status_code == 201, response.text
    return {**response.json(), "password": body["password"]}


async def login(client: httpx.AsyncClient, email: str, password: str = "s3cret-passw0rd") -> dict:
    response = await client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


async def auth_headers(
    client: httpx.AsyncClient, *, user_type: str = "customer", **extra
) -> tuple[dict, dict]:
    """Register a user and log in; returns (user, headers)."""
    user = await register(client, user_type=user_type, **extra)
    tokens = await login(client, user["email"])
    return user, {"Authorization": f"Bearer {tokens['accessToken']}"}


async def staff_headers(app, client: httpx.AsyncClient, role: str = "admin") -> dict:
    """Create a staff or admin user the way the CLI does (they cannot self-register) and log in."""
    return await staff_headers_in(app.state.db, client, role)


async def staff_headers_in(db, client: httpx.AsyncClient, role: str = "admin") -> dict:
    """`staff_headers` for a test whose app runs in another process: the user is written through `db`."""
    from laura.identity.schemas import RegisterRequest
    from laura.identity.service import create_privileged_user

    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    async with db.unit_of_work() as session:
        await create_privileged_user(
            session,
            RegisterRequest(email=email, password="s3cret-passw0rd", name=f"Test {role}"),
            role=role,
        )
    tokens = await login(client, email)
    return {"Authorization": f"Bearer {tokens['accessToken']}"}
