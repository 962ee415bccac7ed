"""The periodic `ledger.verify` job, run by a real worker: a sound ledger sets `ledger_verify_problems` to 0
and counts a sound run; a tampered one sets the gauge to its problem count (what `LedgerVerifyFailing`
pages on) and counts an unsound run."""

from __future__ import annotations

from prometheus_client import REGISTRY
from sqlalchemy import text

from laura.core.jobs import defer
from tests.jobs_support import job_status, running_worker
from tests.ledger.conftest import customer


def _sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def _verify_once(db, settings) -> None:
    async with db.unit_of_work() as session:
        job_id = await defer(session, "ledger.verify", args={"timestamp": 0})

    async def done() -> bool:
        return await job_status(db, job_id) == "succeeded"

    async with running_worker(settings) as worker:
        await worker.until(done)


async def test_the_job_exports_a_sound_ledger_then_the_problems_of_a_tampered_one(db, settings) -> None:
    alice = await customer(db, 1_000)
    sound_before = _sample("ledger_verify_runs_total", outcome="sound") or 0.0
    unsound_before = _sample("ledger_verify_runs_total", outcome="unsound") or 0.0

    await _verify_once(db, settings)

    assert _sample("ledger_verify_problems") == 0
    assert _sample("ledger_verify_runs_total", outcome="sound") == sound_before + 1
    first_run = _sample("ledger_verify_last_run_timestamp_seconds")
    assert first_run is not None and first_run > 0

    async with db.engine.begin() as conn:
        await conn.execute(
            text("UPDATE ledger_accounts SET credits_posted = 1500 WHERE code = :code"), {"code": alice}
        )
    await _verify_once(db, settings)

    assert _sample("ledger_verify_problems") == 1
    assert _sample("ledger_verify_runs_total", outcome="unsound") == unsound_before + 1
    assert (_sample("ledger_verify_last_run_timestamp_seconds") or 0) >= first_run
