"""A GET request's `SessionDep` only reads: its statements run in autocommit (no BEGIN and COMMIT round
trips), any write through it is refused and nothing of it reaches the database; other methods keep their one
transaction, committed at the edge."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import select, text

from laura.core.db import SessionDep, execute, fetchval, write_at_commit
from laura.identity.models import User

_EMAIL = "probe@example.com"


def _user() -> User:
    return User(
        id=uuid.uuid4(), email=_EMAIL, password_hash="x", name="Probe", role="customer", is_active=True
    )


@pytest.fixture
async def probe(app):
    """The app with a few routes that report their transactions or try to write; a refused write answers
    500 (the error handler's), so the client takes the answer instead of the re-raised exception."""
    router = APIRouter(prefix="/probe")

    async def transaction_ids(session: SessionDep) -> list[int]:
        return [await fetchval(session, "SELECT txid_current()") for _ in range(2)]

    router.add_api_route("/transactions", transaction_ids, methods=["GET", "POST"])

    @router.get("/orm-write")
    async def orm_write(session: SessionDep) -> None:
        session.add(_user())
        await session.flush()

    @router.get("/update")
    async def update(session: SessionDep) -> None:
        await session.execute(text("UPDATE users SET name = 'changed'"))

    @router.get("/driver-write")
    async def driver_write(session: SessionDep) -> None:
        await execute(session, "UPDATE users SET name = 'changed'")

    @router.get("/queued-write")
    async def queued_write(session: SessionDep) -> None:
        write_at_commit(session, "UPDATE users SET name = 'changed'")

    @router.get("/locking-read")
    async def locking_read(session: SessionDep) -> None:
        await session.execute(select(User).with_for_update())

    app.include_router(router)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def _names(app) -> list[str]:
    async with app.state.db.sessionmaker() as session:
        return list((await session.execute(text("SELECT name FROM users ORDER BY name"))).scalars())


async def test_a_get_runs_each_statement_on_its_own_and_a_post_in_one_transaction(probe):
    read = (await probe.get("/probe/transactions")).json()
    assert read[0] != read[1]
    written = (await probe.post("/probe/transactions")).json()
    assert written[0] == written[1]


async def test_an_orm_write_in_a_get_is_refused_and_nothing_is_stored(probe, app):
    response = await probe.get("/probe/orm-write")
    assert response.status_code == 500
    assert response.json()["error"] == "INTERNAL_ERROR"
    async with app.state.db.sessionmaker() as session:
        assert await session.scalar(text("SELECT count(*) FROM users WHERE email = :e"), {"e": _EMAIL}) == 0


@pytest.mark.parametrize(
    "route", ["/probe/update", "/probe/driver-write", "/probe/queued-write", "/probe/locking-read"]
)
async def test_a_write_statement_in_a_get_is_refused(probe, app, route):
    await probe.post(
        "/auth/register",
        json={
            "email": "someone@example.com",
            "password": "s3cret-passw0rd",
            "name": "Someone",
            "userType": "customer",
        },
    )
    response = await probe.get(route)
    assert response.status_code == 500
    assert await _names(app) == ["Someone"]
