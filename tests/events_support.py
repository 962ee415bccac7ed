"""Helpers for the event tests: a recording bus subscriber, background tasks that are always cleaned up,
and waiting for an outcome with a generous bound (the bound only stops a hung test; nothing asserts on it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text

from laura.core.db import Database
from laura.core.events.bus import Bus

WAIT_SECONDS = 30.0


async def eventually(check: Callable[[], bool | Awaitable[bool]], *, seconds: float = WAIT_SECONDS) -> None:
    """Poll until `check()` holds; fail the test if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError("condition never became true")
        await asyncio.sleep(0.02)


class Recorder:
    """A bus subscriber that keeps every message it is handed, in order."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.resyncs = 0

    async def deliver(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    async def resync(self) -> None:
        self.resyncs += 1

    @property
    def ids(self) -> list[int]:
        return [m["id"] for m in self.messages]

    async def until_ids(self, *ids: int) -> None:
        await eventually(lambda: set(ids) <= set(self.ids))


@asynccontextmanager
async def background(coro: Coroutine[Any, Any, Any]) -> AsyncIterator[asyncio.Task]:
    task = asyncio.create_task(coro)
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@asynccontextmanager
async def recording(bus: Bus) -> AsyncIterator[Recorder]:
    """Subscribe a `Recorder` to `bus`; returns once the subscription is live."""
    recorder = Recorder()
    subscribed = asyncio.Event()
    async with background(bus.listen(recorder, subscribed)):
        await asyncio.wait_for(subscribed.wait(), WAIT_SECONDS)
        yield recorder


async def outbox_rows(db: Database) -> list[dict[str, Any]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT id, type, position, published_at FROM outbox ORDER BY id"))
        return [dict(row._mapping) for row in rows]


async def latest_event_id(db: Database, kind: str) -> int:
    """The outbox id of the newest event of `kind` (publish writes it with the commit and returns nothing)."""
    async with db.engine.connect() as conn:
        return await conn.scalar(text("SELECT max(id) FROM outbox WHERE type = :kind"), {"kind": kind})


async def insert_uncommitted_event(session: Any, kind: str, user_ids: list[str]) -> int:
    """An outbox row written early in a transaction still open: a low id that will commit late."""
    return await session.scalar(
        text(
            "INSERT INTO outbox (type, data, user_ids, roles) VALUES (:kind, '{}', CAST(:users AS uuid[]), '{}') RETURNING id"
        ),
        {"kind": kind, "users": user_ids},
    )
