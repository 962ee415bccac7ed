"""Idempotency-Key: replay, body mismatch, concurrent requests with one key."""

from __future__ import annotations

import asyncio

from sqlalchemy import text


def _body(email: str) -> dict:
    return {"email": email, "password": "s3cret-passw0rd", "name": "Idem Potent"}


async def _count_users(app, email: str) -> int:
    async with app.state.db.sessionmaker() as session:
        return await session.scalar(text("SELECT count(*) FROM users WHERE email = :e"), {"e": email})


async def test_same_key_and_body_replays_the_first_response(client, app):
    headers = {"Idempotency-Key": "key-1"}
    first = await client.post("/auth/register", json=_body("idem@example.com"), headers=headers)
    second = await client.post("/auth/register", json=_body("idem@example.com"), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert await _count_users(app, "idem@example.com") == 1


async def test_same_key_with_another_body_is_422(client):
    headers = {"Idempotency-Key": "key-2"}
    assert (
        await client.post("/auth/register", json=_body("a@example.com"), headers=headers)
    ).status_code == 201
    other = await client.post("/auth/register", json=_body("b@example.com"), headers=headers)
    assert other.status_code == 422
    assert other.json()["error"] == "IDEMPOTENCY_KEY_REUSED"


async def test_a_refusal_is_replayed_too(client):
    await client.post("/auth/register", json=_body("taken@example.com"))
    headers = {"Idempotency-Key": "key-3"}
    first = await client.post("/auth/register", json=_body("taken@example.com"), headers=headers)
    second = await client.post("/auth/register", json=_body("taken@example.com"), headers=headers)
    assert first.status_code == second.status_code == 409
    assert first.json()["error"] == second.json()["error"] == "EMAIL_IN_USE"


async def test_concurrent_requests_with_one_key_run_once(client, app):
    headers = {"Idempotency-Key": "key-race"}
    responses = await asyncio.gather(
        *(client.post("/auth/register", json=_body("race@example.com"), headers=headers) for _ in range(8))
    )
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}, statuses
    assert statuses.count(201) >= 1
    assert all(r.json()["error"] == "REQUEST_IN_PROGRESS" for r in responses if r.status_code == 409)
    created = [r.json() for r in responses if r.status_code == 201]
    assert all(body == created[0] for body in created)
    assert await _count_users(app, "race@example.com") == 1
    replay = await client.post("/auth/register", json=_body("race@example.com"), headers=headers)
    assert replay.status_code == 201 and replay.json() == created[0]
