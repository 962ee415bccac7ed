"""Direct tests of the SQL functions: each called by name with SQL, the way PostgreSQL sees it."""

from __future__ import annotations

from typing import Any

import asyncpg

from laura.core.db import Database
from laura.core.statement import one_statement, one_statement_rows


def _named(function: str, args: dict[str, Any]) -> str:
    named = ", ".join(f"p_{name} => ${n}" for n, name in enumerate(args, start=1))
    return f"SELECT * FROM {function}({named})"


async def call(db: Database, function: str, **args: Any) -> asyncpg.Record:
    """`SELECT * FROM function(p_<name> => ...)` in autocommit (its own transaction); its one row."""
    row = await one_statement(db, _named(function, args), *args.values())
    assert row is not None
    return row


async def call_rows(db: Database, function: str, **args: Any) -> list[asyncpg.Record]:
    """As `call`, for a set-returning function: all its rows."""
    return await one_statement_rows(db, _named(function, args), *args.values())


async def session_of(db: Database, user_id: str) -> Any:
    """The user's latest auth session (the one its access token names)."""
    return await scalar(
        db, "SELECT id FROM auth_sessions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1", user_id
    )


async def scalar(db: Database, sql: str, *args: Any) -> Any:
    row = await one_statement(db, sql, *args)
    return None if row is None else row[0]


async def rows(db: Database, sql: str, *args: Any) -> list[tuple]:
    return [tuple(row) for row in await one_statement_rows(db, sql, *args)]
