"""Job metrics: `jobs_total` counted by the worker as jobs end, `jobs_queue_depth` read from PostgreSQL.

The counter lives in the process that runs the jobs (the API's `/metrics` under `laura up`, else the
worker's `--metrics-port`). The queue depth is one grouped count over the jobs due and waiting, or running
(a Pix scheduled for next month is no backlog), refreshed by `/metrics` on each scrape with an async query,
so any API instance reports the true value.
"""

from __future__ import annotations

import structlog
from prometheus_client import Counter, Gauge
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from laura.core.db import Database

JOBS_TOTAL = Counter(
    "jobs_total", "Job runs by outcome: done, retried (will run again) or failed", ["task", "status"]
)
JOBS_QUEUE_DEPTH = Gauge(
    "jobs_queue_depth", "Jobs due and waiting (todo) or running (doing), per queue", ["queue", "status"]
)

_DEPTH = text(
    "SELECT queue_name, status::text AS status, count(*) AS jobs FROM procrastinate_jobs"
    " WHERE status IN ('todo', 'doing') AND (scheduled_at IS NULL OR scheduled_at <= now())"
    " GROUP BY queue_name, status"
)
_seen: set[tuple[str, str]] = set()
_log = structlog.get_logger("laura.jobs")


async def refresh_queue_depth(db: Database) -> None:
    """Set the gauge from the database; a queue seen before and now empty reads 0. A failed read keeps
    the last values (and logs) rather than failing the scrape. Read on the primary: the queue alert must
    see the queue as it is, and must not go blind while a read replica is down or lagging."""
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SET LOCAL statement_timeout = '2s'"))
            rows = (await conn.execute(_DEPTH)).all()
    except (SQLAlchemyError, OSError) as exc:
        _log.warning("jobs_queue_depth_unavailable", error=type(exc).__name__)
        return
    current = {(row.queue_name, row.status): row.jobs for row in rows}
    for labels in _seen - current.keys():
        JOBS_QUEUE_DEPTH.labels(*labels).set(0)
    for labels, jobs in current.items():
        JOBS_QUEUE_DEPTH.labels(*labels).set(jobs)
    _seen.update(current)
