"""`laura worker --metrics-port` run as a real child process, as docker-compose runs it: the tests read the
worker's own /metrics (job outcomes, payouts, missed webhooks, the ledger verification), which no API
process exports."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.events_support import eventually
from tests.server_process import STARTUP_SECONDS, free_port, interrupt, laura_env


@dataclass
class WorkerProcess:
    process: asyncio.subprocess.Process
    metrics_url: str
    log_path: Path

    async def metrics(self) -> str:
        async with httpx.AsyncClient() as http:
            response = await http.get(self.metrics_url)
        response.raise_for_status()
        return response.text


@asynccontextmanager
async def worker_process(database_url: str, workdir: Path, **variables: str) -> AsyncIterator[WorkerProcess]:
    """A worker on `database_url` (with the LAURA_* `variables` too), yielded once its metrics port answers;
    stopped with SIGINT (running jobs finish first) and killed if it does not stop."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "worker.log"
    env = laura_env(
        database_url, workdir, **{"LAURA_HOST": "127.0.0.1", "LAURA_LOG_LEVEL": "WARNING", **variables}
    )
    with log_path.open("w") as log:
        process = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "laura", "worker", "--concurrency", "2", "--metrics-port", str(port)],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    running = WorkerProcess(process, f"http://127.0.0.1:{port}/metrics", log_path)
    try:

        async def answers() -> bool:
            assert process.returncode is None, log_path.read_text(errors="replace")[-5000:]
            try:
                await running.metrics()
            except httpx.TransportError:
                return False
            return True

        await eventually(answers, seconds=STARTUP_SECONDS)
        yield running
    finally:
        await interrupt(process)
