"""Two API processes (uvicorn) on one database: a client on the second receives an event whose relay runs in
the first, over PostgreSQL NOTIFY and over Redis pub/sub; a logout through the first closes the second's socket.

There are no business routes that publish yet, and the tests add none: the event is written with `publish()`
through the test's own session on the shared database, a third writer exactly like an API instance or a
worker. The first process is checked to hold the relay's leader lock, so the path is: outbox -> relay in
process 1 -> bus -> process 2 -> WebSocket.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from laura.core.db import Database
from laura.core.events import publish
from laura.core.events.outbox import LEADER_LOCK
from tests.conftest import TEST_SECRET
from tests.events_support import WAIT_SECONDS, eventually, latest_event_id
from tests.helpers import TEST_REDIS_URL, redis_reachable
from tests.realtime.client import listening, user_with_token
from tests.server_process import free_port

ROOT = Path(__file__).resolve().parents[2]


class Instance:
    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.http = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}"


@asynccontextmanager
async def instance(database_url: str, data_dir: Path, redis_url: str | None) -> AsyncIterator[Instance]:
    """`uvicorn laura.app:create_app --factory` configured only through LAURA_* variables, as in production."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAURA_")}
    env |= {
        "LAURA_DATABASE_URL": database_url,
        "LAURA_SECRET_KEY": TEST_SECRET,
        "LAURA_RATE_LIMITS_ENABLED": "false",
        "LAURA_DATA_DIR": str(data_dir),
        "LAURA_ENVIRONMENT": "test",
        "LAURA_LOG_LEVEL": "WARNING",
        "LAURA_WS_AUTH_RECHECK_SECONDS": "0.5",
        "LAURA_EVENTS_POLL_SECONDS": "0.5",
    }
    if redis_url:
        env["LAURA_REDIS_URL"] = redis_url
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "server.log").open("w")
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "uvicorn", "laura.app:create_app", "--factory"],
        *["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
    )
    server = Instance(process, port)
    try:
        async with httpx.AsyncClient() as http:

            async def healthy() -> bool:
                assert process.returncode is None, (data_dir / "server.log").read_text()
                try:
                    return (await http.get(f"{server.http}/health")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(healthy, seconds=60)
        yield server
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), WAIT_SECONDS)
        except TimeoutError:
            process.kill()
            await process.wait()
        log.close()


async def relay_leader(db: Database) -> str | None:
    """The application_name (`laura-relay:<os pid>`) of the connection holding the relay's leader lock."""
    async with db.engine.connect() as conn:
        return await conn.scalar(
            text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = :key "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"key": LEADER_LOCK},
        )


def leader_is(db: Database, server: Instance) -> Callable[[], object]:
    async def check() -> bool:
        return await relay_leader(db) == f"laura-relay:{server.process.pid}"

    return check


@pytest.mark.parametrize("bus", ["postgres", "redis"])
async def test_an_event_reaches_a_client_of_the_other_instance(bus, database_url, tmp_path):
    if bus == "redis" and not redis_reachable(TEST_REDIS_URL):
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    redis_url = TEST_REDIS_URL if bus == "redis" else None
    db = Database(database_url)
    try:
        async with instance(database_url, tmp_path / "first", redis_url) as first:
            await eventually(leader_is(db, first))
            async with (
                instance(database_url, tmp_path / "second", redis_url) as second,
                httpx.AsyncClient(base_url=first.http) as through_first,
            ):
                user, token = await user_with_token(through_first, user_type="passenger")

                async with listening(second.ws, token) as socket:
                    async with db.unit_of_work() as session:
                        await publish(session, "ride.accepted", {"rideId": "r-1"}, user_ids=[user["id"]])
                    event_id = await latest_event_id(db, "ride.accepted")
                    frame = await socket.frame()
                    assert frame["id"] == event_id
                    assert frame["type"] == "ride.accepted" and frame["data"] == {"rideId": "r-1"}
                    assert await relay_leader(db) == f"laura-relay:{first.process.pid}"

                    logout = await through_first.post(
                        "/auth/logout", headers={"Authorization": f"Bearer {token}"}
                    )
                    assert logout.status_code == 204
                    assert await socket.close_code() == 4401
    finally:
        await db.dispose()
