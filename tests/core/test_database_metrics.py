"""What /metrics reads from the database on each scrape: `database_up` (1 while the primary answers, 0
when it does not, which DatabaseDown pages on) and `jobs_queue_depth` counting only the jobs that are due."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client import REGISTRY
from sqlalchemy.engine import make_url

from laura.core.database_metrics import refresh_database_up
from laura.core.db import Database
from laura.core.jobs import defer
from tests.server_process import free_port


def _database_up() -> float | None:
    return REGISTRY.get_sample_value("database_up", {"role": "primary"})


async def test_database_up_reads_1_while_the_primary_answers_and_0_when_it_does_not(
    app, client: httpx.AsyncClient, database_url: str
) -> None:
    assert 'database_up{role="primary"} 1.0' in (await client.get("/metrics")).text

    nowhere = Database(make_url(database_url).set(host="127.0.0.1", port=free_port()).render_as_string(False))
    try:
        await refresh_database_up(nowhere)
    finally:
        await nowhere.dispose()
    assert _database_up() == 0

    await refresh_database_up(app.state.db)
    assert _database_up() == 1


async def test_the_queue_depth_counts_due_jobs_not_those_scheduled_for_later(
    app, client: httpx.AsyncClient
) -> None:
    async with app.state.db.unit_of_work() as session:
        await defer(session, "ledger.verify", args={"timestamp": 1}, queue="depth-test")
        await defer(
            session,
            "ledger.expire_holds",
            args={"timestamp": 2},
            queue="depth-test",
            schedule_at=datetime.now(UTC) + timedelta(days=30),
        )

    metrics = (await client.get("/metrics")).text

    depth = re.search(r'^jobs_queue_depth\{queue="depth-test",status="todo"\} (\S+)$', metrics, re.MULTILINE)
    assert depth is not None and float(depth.group(1)) == 1.0
