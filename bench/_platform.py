"""The job worker beside a bench's app, and which process's outbox relay leads.

Every process of the platform runs a relay and one of them leads (a session advisory lock): the others
wake it with a NOTIFY after each commit with events. Which one leads changes the latency of events
committed elsewhere: a job worker busy with CPU-heavy jobs publishes later than an API process. The
bench chooses the order the processes start in, waits for the one it wants to lead, and reports it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from typing import IO

import asyncpg
import psutil
from _common import ROOT

_LEADER = (
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.granted AND a.datname = $1"
    " AND a.application_name LIKE 'laura-relay:%'"
)
"""The relay holding the leader lock in the bench's database; its `application_name` carries its OS pid."""


def start_worker(
    url: str, data_dir: str, env: dict[str, str], redis_url: str | None, log: IO[str]
) -> subprocess.Popen:
    """One `laura worker` with the app's settings (`env`), WARNING logs into `log`."""
    environment = {
        **os.environ,
        "LAURA_DATABASE_URL": url,
        "LAURA_DATA_DIR": data_dir,
        "LAURA_LOG_LEVEL": "WARNING",
        **env,
    }
    environment.pop("LAURA_REDIS_URL", None)
    if redis_url:
        environment["LAURA_REDIS_URL"] = redis_url
    command = [sys.executable, "-m", "laura", "worker"]
    return subprocess.Popen(command, env=environment, cwd=str(ROOT), stdout=log, stderr=log)


async def relay_leader(conn: asyncpg.Pool | asyncpg.Connection, db: str, processes: dict) -> str | None:
    """The name in `processes` of the process (or its children) whose relay leads, if one does."""
    names = await conn.fetch(_LEADER, db)
    pids = {int(r["application_name"].split(":", 1)[1]) for r in names}
    for name, process in processes.items():
        try:
            tree = {process.pid, *(c.pid for c in psutil.Process(process.pid).children(recursive=True))}
        except psutil.Error:
            continue
        if pids & tree:
            return str(name)
    return None


async def wait_for_leader(url: str, db: str, processes: dict, name: str, timeout: float = 60) -> None:
    """Poll until `name`'s relay leads (it started first, alone); an error after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    conn = await asyncpg.connect(url)
    try:
        while await relay_leader(conn, db, processes) != name:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {name}'s relay did not lead within {timeout:.0f} s")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
