"""The worker's /metrics (`laura worker --metrics-port`, scraped as job laura-worker by
deploy/prometheus/prometheus.yml): a real worker process runs a job deferred through the database and its
port reports it in `jobs_total`, with the ledger verification's outcome the job recorded."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from laura.core.db import Database
from laura.core.jobs import defer
from tests.events_support import eventually
from tests.jobs_support import job_status
from tests.metrics_support import exported_samples
from tests.worker_process import worker_process

ROOT = Path(__file__).resolve().parents[2]


def _sample(exposition: str, line_start: str) -> float | None:
    match = re.search(rf"^{re.escape(line_start)} (\S+)$", exposition, re.MULTILINE)
    return float(match.group(1)) if match else None


async def test_a_worker_process_exports_the_jobs_it_ran(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    try:
        async with worker_process(database_url, tmp_path) as worker:
            async with db.unit_of_work() as session:
                job_id = await defer(session, "ledger.verify", args={"timestamp": 0})

            async def ran() -> bool:
                return await job_status(db, job_id) == "succeeded"

            await eventually(ran, seconds=60)
            exposition = await worker.metrics()
    finally:
        await db.dispose()

    assert _sample(exposition, 'jobs_total{status="done",task="ledger.verify"}') == 1.0
    assert _sample(exposition, 'ledger_verify_runs_total{outcome="sound"}') == 1.0
    assert _sample(exposition, "ledger_verify_problems") == 0.0
    assert {"webhooks_missed_total", "payouts_failed_total", "jobs_total"} <= exported_samples(exposition)


def test_prometheus_scrapes_the_worker_port_compose_opens() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    command = compose["services"]["worker"]["command"]
    port = command[command.index("--metrics-port") + 1]

    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in scrape["scrape_configs"]}

    assert targets["laura-worker"] == [f"worker:{port}"]
