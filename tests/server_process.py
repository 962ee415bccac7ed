"""A `laura` command (`up`, `serve`) run as a real child process on a free port, configured only through
LAURA_* variables as in production; its stdout and stderr go to one log file the test can read."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET
from tests.events_support import eventually

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 180
"""`laura up` starts a PSP sandbox and a worker too; a loaded 2-core machine needs the margin."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LauraProcess:
    process: asyncio.subprocess.Process
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def laura_env(database_url: str, data_dir: Path, **variables: str) -> dict[str, str]:
    """The parent's environment without its LAURA_* settings, plus the test database and `variables`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAURA_")}
    env |= {
        "LAURA_DATABASE_URL": database_url,
        "LAURA_SECRET_KEY": TEST_SECRET,
        "LAURA_DATA_DIR": str(data_dir),
        "LAURA_RATE_LIMITS_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
        **variables,
    }
    return env


@asynccontextmanager
async def laura_process(
    command: list[str], env: dict[str, str], workdir: Path
) -> AsyncIterator[LauraProcess]:
    """`python -m laura <command> --port <free port>`, yielded once `/ready` answers 200; stopped with SIGINT
    (as Ctrl-C would) and killed if it does not stop."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "laura.log"
    with log_path.open("w") as log:
        process = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "laura", *command, "--port", str(port)],
            cwd=workdir,  # no stray .env from the checkout
            env=env,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    running = LauraProcess(process, port, log_path)
    try:
        async with httpx.AsyncClient(base_url=running.url) as http:

            async def ready() -> bool:
                assert process.returncode is None, running.output()[-5000:]
                try:
                    return (await http.get("/ready")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(ready, seconds=STARTUP_SECONDS)
        yield running
    finally:
        await interrupt(process)


async def interrupt(process: asyncio.subprocess.Process) -> None:
    """Stop a child with SIGINT (as Ctrl-C would: running work finishes first); kill it if it does not stop.
    One already dead (a test may have killed it) is only waited for."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
    try:
        await asyncio.wait_for(process.wait(), 60)
    except TimeoutError:
        process.kill()
        await process.wait()
