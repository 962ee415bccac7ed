"""`database_up`: whether this process's last query to the primary database answered, set on each scrape.

Prometheus cannot call `/ready`, and a PostgreSQL exporter sees the server, not this instance's path to it
(pool, network, credentials); the `DatabaseDown` alert reads this gauge, with the exporter's `pg_up` beside it.
"""

from __future__ import annotations

import asyncio

import structlog
from prometheus_client import Gauge
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from laura.core.db import Database

DATABASE_UP = Gauge(
    "database_up",
    "1 when this instance's last /metrics query to the database answered, else 0, by role (primary)",
    ["role"],
)
"""Labelled, so a process that never probes (the worker) exports no sample rather than a false 0."""
PROBE_TIMEOUT_SECONDS = 2.0
"""Well inside Prometheus' 10 s scrape timeout, so a hung connection reads as down instead of failing the scrape."""

_log = structlog.get_logger("laura.db")


async def refresh_database_up(db: Database) -> None:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS), db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        _log.warning("database_unreachable", error=type(exc).__name__)
        DATABASE_UP.labels("primary").set(0)
        return
    DATABASE_UP.labels("primary").set(1)
