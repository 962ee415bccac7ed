"""The set-up every benchmark shares: the PostgreSQL server to use, a scratch database at head, free ports,
the real app as uvicorn processes, and waiting until it answers.

Each benchmark adds its own data and settings; what is here is the same for all of them, so a change to
how the app is started or a database recreated is made once.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DRIVER_COLUMNS = [
    "id",
    "user_id",
    "full_name",
    "cpf",
    "cnh_number",
    "pix_key",
    "pix_key_type",
    "approval_status",
    "online",
]
"""The columns the benches COPY into `drivers` when they seed a fleet."""

sys.path.insert(0, str(ROOT))

from laura.core.db import plain_url
from laura.core.migrations import upgrade


def server_url() -> str:
    """LAURA_DATABASE_URL's server (libpq form), or the local default."""
    return plain_url(os.environ.get("LAURA_DATABASE_URL") or DEFAULT_SERVER)


def with_db(url: str, name: str) -> str:
    """The same server, database `name`."""
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def recreate_database(server: str, name: str) -> str:
    """Drop and create database `name` (empty) on `server`; returns its URL."""
    conn = await asyncpg.connect(with_db(server, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_db(server, name)


async def fresh_database(server: str, name: str) -> str:
    """Database `name` recreated and migrated to head; returns its URL."""
    url = await recreate_database(server, name)
    upgrade(url)
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


def start_app(
    url: str,
    port: int,
    *,
    data_dir: str,
    workers: int,
    env: dict[str, str] | None = None,
    redis_url: str | None = None,
    uvicorn_args: tuple[str, ...] = (),
    **popen: Any,
) -> subprocess.Popen:
    """`laura.app:create_app` under uvicorn on 127.0.0.1:`port` with `workers` processes, rate limits off,
    WARNING logs and no access log; Redis only when `redis_url` is given; `env` adds or overrides settings."""
    environment = {
        **os.environ,
        "LAURA_DATABASE_URL": url,
        "LAURA_DATA_DIR": data_dir,
        "LAURA_RATE_LIMITS_ENABLED": "false",
        "LAURA_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    environment.pop("LAURA_REDIS_URL", None)
    if redis_url:
        environment["LAURA_REDIS_URL"] = redis_url
    command = [
        sys.executable, "-m", "uvicorn", "laura.app:create_app", "--factory", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log",
        *uvicorn_args,
    ]  # fmt: skip
    return subprocess.Popen(command, env=environment, cwd=str(ROOT), **popen)


async def wait_ready(
    base: str, process: subprocess.Popen, *, path: str = "/health", timeout: float = 60, poll: float = 0.2
) -> None:
    """Poll `path` until it answers 200; the server exiting or `timeout` seconds passing is an error."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("the benchmark server exited")
            try:
                if (await http.get(path)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(poll)
    raise RuntimeError(f"the benchmark server did not answer {path} within {timeout:.0f} s")
