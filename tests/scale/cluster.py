"""Three `laura serve` and two `laura worker` child processes on one database (and one Redis when the test
run has one), behind the round-robin proxy: what a load balancer in front of a scaled-out deployment sees.

Each process has a data directory of its own: whatever they share, they share through the database, Redis
and the environment (the secret key, the PSP webhook secret), as separate machines would."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import redis
from sqlalchemy import text

from laura.core.db import Database
from tests.events_support import eventually
from tests.scale.proxy import RoundRobinProxy, running_proxy
from tests.server_process import STARTUP_SECONDS, LauraProcess, laura_env, laura_process
from tests.worker_process import WorkerProcess, worker_process

API_INSTANCES = 3
WORKERS = 2
T = TypeVar("T")
FLEET = 9
"""Drivers in the accept race; one offer batch holds them all."""
LOGIN_LIMIT = 2
"""Failed logins per e-mail in the window (5 as shipped; fewer attempts show the same thing)."""


@dataclass
class Cluster:
    apis: list[LauraProcess]
    workers: list[WorkerProcess]
    proxy: RoundRobinProxy
    proxy_address: str
    db: Database
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

    async def ledger_problems(self) -> list[str]:
        """What `laura ledger verify` would name: the ledger recomputed from its entries."""
        from laura.ledger.service import verify

        async with self.db.sessionmaker() as session:
            report = await verify(session)
        return [str(p) for p in report.problems]


def cluster_variables(redis_url: str | None) -> dict[str, str]:
    """Production-like settings: rate limits on (the default and transfer limits out of the way of the
    load, a small login limit), small pools (five processes share the test server), offers that
    reach the whole fleet and stay valid through the test."""
    variables = {
        "LAURA_ENVIRONMENT": "test",
        "LAURA_LOG_LEVEL": "WARNING",
        "LAURA_RATE_LIMITS_ENABLED": "true",
        "LAURA_RATE_LIMIT_DEFAULT": "100000/minute",
        "LAURA_RATE_LIMIT_TRANSFERS": "100000/minute",
        "LAURA_RATE_LIMIT_LOGIN": f"{LOGIN_LIMIT}/15minutes",
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
    return variables


@asynccontextmanager
async def together(contexts: list[AbstractAsyncContextManager[T]]) -> AsyncIterator[list[T]]:
    """Enter the contexts at once and leave them at once: the five processes start, and stop, in parallel."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    entered: list[asyncio.Future[T]] = [loop.create_future() for _ in contexts]

    async def hold(context: AbstractAsyncContextManager[T], value: asyncio.Future[T]) -> None:
        async with context as inside:
            value.set_result(inside)
            await stop.wait()

    holders = [asyncio.create_task(hold(c, v)) for c, v in zip(contexts, entered, strict=True)]
    try:
        for value, holder in zip(entered, holders, strict=True):
            await asyncio.wait({value, holder}, return_when=asyncio.FIRST_COMPLETED)
            if not value.done():
                holder.result()  # the context's failure to start
        yield [value.result() for value in entered]
    finally:
        stop.set()
        for outcome in await asyncio.gather(*holders, return_exceptions=True):
            if isinstance(outcome, Exception):
                raise outcome


@asynccontextmanager
async def running_cluster(database_url: str, workdir: Path, redis_url: str | None) -> AsyncIterator[Cluster]:
    """Start everything at once and yield when every API answers `/ready` and both workers registered."""
    variables = cluster_variables(redis_url)
    db = Database(database_url)
    apis = [
        laura_process(
            ["serve"],
            laura_env(database_url, workdir / f"api-{i}" / "data", **variables),
            workdir / f"api-{i}",
        )
        for i in range(API_INSTANCES)
    ]
    workers = [worker_process(database_url, workdir / f"worker-{i}", **variables) for i in range(WORKERS)]
    try:
        async with together([*workers, *apis]) as running:
            running_workers, running_apis = running[:WORKERS], running[WORKERS:]

            async def workers_registered() -> bool:
                for worker in running_workers:
                    assert worker.process.returncode is None, worker.log_path.read_text(errors="replace")[
                        -5000:
                    ]
                async with db.engine.connect() as conn:
                    return await conn.scalar(text("SELECT count(*) FROM procrastinate_workers")) == WORKERS

            await eventually(workers_registered, seconds=STARTUP_SECONDS)
            upstreams = [f"127.0.0.1:{a.port}" for a in running_apis]
            async with running_proxy(upstreams) as (proxy, address):
                yield Cluster(running_apis, running_workers, proxy, address, db, redis_url)
    finally:
        await db.dispose()
        if redis_url:
            forget_namespace(redis_url, variables["LAURA_MOBILITY_REDIS_NAMESPACE"])


def forget_namespace(redis_url: str, namespace: str) -> None:
    """Delete the mobility keys the cluster left in the shared Redis (drivers' positions, offers)."""
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{{{namespace}}}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
