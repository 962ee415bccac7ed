"""Three `laura serve` and two `laura worker` child processes on one database (and one Redis when the test
run has one), behind the round-robin proxy: what a load balancer in front of a scaled-out deployment sees.

Each process has a data directory of its own: whatever they share, they share through the database, Redis
and the environment (the secret key, the PSP webhook secret), as separate machines would."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import text

from laura.core.db import Database
from tests.events_support import eventually
from tests.server_process import ROOT, STARTUP_SECONDS, LauraProcess, laura_env, laura_process
from tests.scale.proxy import RoundRobinProxy, running_proxy

API_INSTANCES = 3
WORKERS = 2
FLEET = 12
"""Drivers in the accept race; one offer batch holds them all."""


@dataclass
class Cluster:
    apis: list[LauraProcess]
    workers: list[asyncio.subprocess.Process]
    proxy: RoundRobinProxy
    proxy_address: str
    db: Database
    env: dict[str, str]
    redis_url: str | None

    @property
    def url(self) -> str:
        return f"http://{self.proxy_address}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.proxy_address}"

    def client(self, base_url: str | None = None) -> httpx.AsyncClient:
        """A client of the proxy (or of one instance, `base_url`), patient enough for a loaded machine."""
        return httpx.AsyncClient(base_url=base_url or self.url, timeout=120.0)

    async def scalar(self, sql: str, **params: object) -> object:
        async with self.db.engine.connect() as conn:
            return await conn.scalar(text(sql), params)

    async def ledger_verify(self) -> tuple[int, str]:
        """`laura ledger verify` as an operator runs it: its exit code and output."""
        check = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "laura", "ledger", "verify"],
            cwd=self.apis[0].log_path.parent,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(check.communicate(), STARTUP_SECONDS)
        return check.returncode or 0, output.decode(errors="replace")


def cluster_env(database_url: str, data_dir: Path, redis_url: str | None) -> dict[str, str]:
    """Production-like settings: rate limits on (the default and transfer limits out of the way of the
    load, the login limit as shipped), small pools (five processes share the test server), offers that
    reach the whole fleet and stay valid through the test."""
    variables = {
        "LAURA_ENVIRONMENT": "test",
        "LAURA_LOG_LEVEL": "WARNING",
        "LAURA_RATE_LIMITS_ENABLED": "true",
        "LAURA_RATE_LIMIT_DEFAULT": "100000/minute",
        "LAURA_RATE_LIMIT_TRANSFERS": "100000/minute",
        "LAURA_DB_POOL_SIZE": "4",
        "LAURA_DB_MAX_OVERFLOW": "16",
        "LAURA_WORKER_CONCURRENCY": "2",
        "LAURA_EVENTS_POLL_SECONDS": "0.5",
        "LAURA_PSP_WEBHOOK_SECRET": uuid.uuid4().hex,
        "LAURA_RIDE_OFFER_BATCH_SIZE": str(FLEET),
        "LAURA_RIDE_OFFER_TTL_SECONDS": "3600",
        "LAURA_MOBILITY_LOCATION_MAX_AGE_SECONDS": "3600",
        "LAURA_MOBILITY_REDIS_NAMESPACE": f"mobility-scale-{uuid.uuid4().hex[:12]}",
    }
    if redis_url:
        variables["LAURA_REDIS_URL"] = redis_url
    return laura_env(database_url, data_dir, **variables)


@asynccontextmanager
async def laura_worker(env: dict[str, str], workdir: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m laura worker`, stopped with SIGINT (its running jobs finish) and killed if it hangs."""
    workdir.mkdir(parents=True, exist_ok=True)
    with (workdir / "laura.log").open("w") as log:
        process = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "laura", "worker"],
            cwd=workdir,
            env={**env, "LAURA_DATA_DIR": str(workdir / "data")},
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), 60)
        except TimeoutError:
            process.kill()
            await process.wait()


@asynccontextmanager
async def running_cluster(database_url: str, workdir: Path, redis_url: str | None) -> AsyncIterator[Cluster]:
    """Start everything at once and yield when every API answers `/ready` and both workers registered."""
    env = cluster_env(database_url, workdir / "data", redis_url)
    db = Database(database_url)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(db.dispose)

        async def api(i: int) -> LauraProcess:
            own = {**env, "LAURA_DATA_DIR": str(workdir / f"api-{i}" / "data")}
            return await stack.enter_async_context(laura_process(["serve"], own, workdir / f"api-{i}"))

        workers = [await stack.enter_async_context(laura_worker(env, workdir / f"worker-{i}")) for i in range(WORKERS)]
        started = await asyncio.gather(*(api(i) for i in range(API_INSTANCES)), return_exceptions=True)
        for failure in [s for s in started if isinstance(s, BaseException)]:
            raise failure  # the ones that did start are stopped by the stack
        apis = [s for s in started if isinstance(s, LauraProcess)]

        async def workers_registered() -> bool:
            for i, worker in enumerate(workers):
                assert worker.returncode is None, (workdir / f"worker-{i}" / "laura.log").read_text()[-5000:]
            async with db.engine.connect() as conn:
                return await conn.scalar(text("SELECT count(*) FROM procrastinate_workers")) == WORKERS

        await eventually(workers_registered, seconds=STARTUP_SECONDS)
        proxy, address = await stack.enter_async_context(running_proxy([f"127.0.0.1:{a.port}" for a in apis]))
        yield Cluster(apis, workers, proxy, address, db, {**env, "PYTHONPATH": str(ROOT)}, redis_url)
