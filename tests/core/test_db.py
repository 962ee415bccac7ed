"""`driver(session)`: statements sent straight to asyncpg share the session's transaction, whichever of the
two speaks first, and a new transaction after a commit gets its own connection state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import text

from laura.core.db import Database, after_commit, commit, driver, execute, fetchval, rollback, settings_of
from laura.settings import Settings


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    async with database.unit_of_work() as session:
        await session.execute(text("CREATE TABLE scratch (n int PRIMARY KEY)"))
    yield database
    await database.dispose()


async def _rows(db: Database) -> list[int]:
    async with db.sessionmaker() as session:
        return list((await session.execute(text("SELECT n FROM scratch ORDER BY n"))).scalars())


async def test_a_driver_statement_first_is_inside_the_transaction(db):
    async with db.sessionmaker() as session:
        await execute(session, "INSERT INTO scratch VALUES ($1)", 1)
        await session.execute(text("INSERT INTO scratch VALUES (2)"))
        await rollback(session)
    assert await _rows(db) == []


async def test_driver_and_session_statements_commit_together(db):
    async with db.sessionmaker() as session:
        await session.execute(text("INSERT INTO scratch VALUES (1)"))
        assert await fetchval(session, "SELECT count(*) FROM scratch") == 1
        await execute(session, "INSERT INTO scratch VALUES ($1)", 2)
        await commit(session)
    assert await _rows(db) == [1, 2]


async def test_each_transaction_of_a_session_begins_again(db):
    async with db.sessionmaker() as session:
        await execute(session, "INSERT INTO scratch VALUES ($1)", 1)
        await commit(session)
        await execute(session, "INSERT INTO scratch VALUES ($1)", 2)
        assert (await driver(session)).is_in_transaction()
        await rollback(session)
    assert await _rows(db) == [1]


async def test_a_rollback_drops_what_the_transaction_queued_but_keeps_the_sessions_settings(database_url):
    """A job that rolls back one item and goes on to the next still reads the settings it was started with."""
    settings = Settings(ride_commission_percent=Decimal(7))
    database = Database(database_url, settings=settings)
    try:
        async with database.sessionmaker() as session:
            after_commit(session, _never)
            await rollback(session)
            assert settings_of(session) is settings
            assert "after_commit" not in session.info
    finally:
        await database.dispose()


async def _never() -> None:
    raise AssertionError("a rolled-back transaction's hook ran")
