"""Ledger housekeeping: holds past their timeout are released, so their money is available again; the
ledger is verified on a schedule, its outcome exported for the `LedgerVerifyFailing` alert; the months of
ledger entries are created ahead and, when configured, archived."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.jobs import app, current_runtime, job_task
from laura.ledger import partitions, service
from laura.ledger.metrics import record_verification
from laura.settings import get_settings

_log = structlog.get_logger("laura.ledger")


@app.periodic(cron="* * * * *", periodic_id="ledger-expire-holds")
@job_task(name="ledger.expire_holds", queueing_lock="ledger.expire_holds")
async def expire_holds(session: AsyncSession, *, timestamp: int) -> int:
    """Every minute: void (as `expired`) the pending holds whose timeout has passed, 500 per run."""
    return await service.expire_holds(session)


@app.periodic(cron=get_settings().ledger_verify_cron, periodic_id="ledger-verify")
@job_task(name="ledger.verify", queueing_lock="ledger.verify")
async def verify(session: AsyncSession, *, timestamp: int) -> int:
    """`laura ledger verify` on a schedule (it reads every entry in one snapshot, so daily and off-peak by
    default): the problems are logged and counted; returns how many there were."""
    report = await service.verify(session)
    record_verification(report)
    if not report.ok:
        _log.error("ledger_verify_failed", problems=report.problems[:20], count=len(report.problems))
    return len(report.problems)


@app.periodic(cron="41 2 * * *", periodic_id="ledger-entry-partitions")
@job_task(name="ledger.entry_partitions", queueing_lock="ledger.entry_partitions")
async def entry_partitions(session: AsyncSession, *, timestamp: int) -> dict[str, object]:
    """Daily (cheap when nothing is due): the next months' partitions exist, months past
    `LAURA_LEDGER_ARCHIVE_AFTER_MONTHS` are archived."""
    done = await partitions.maintain(
        session,
        now=datetime.now(UTC),
        archive_after_months=current_runtime().settings.ledger_archive_after_months,
    )
    return asdict(done)
