"""Pix background work: submitting a recorded send to the PSP, and the periodic reconciliation.

`reconcile(...)` is the reconciliation itself (tests and ops call it directly); the `pix.reconcile` task runs
it every `LAURA_PIX_RECONCILE_CRON` (default every 5 minutes). Unlike a `@job_task`, it commits each charge
or send in its own unit of work: one PSP answer that cannot be applied does not undo the others, and no
lock outlives the item it protects.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import Database
from laura.core.jobs import Retry, app, current_runtime, job_task
from laura.pix import reconciliation, service
from laura.pix.psp import EfiClient, PspUnavailable
from laura.settings import Settings, get_settings

log = structlog.get_logger(__name__)


@dataclass
class ReconcileReport:
    """How many charges and sends ended in each outcome (`error`: logged and left for the next run)."""

    charges: Counter[str] = field(default_factory=Counter)
    sends: Counter[str] = field(default_factory=Counter)


async def reconcile(
    db: Database,
    psp: EfiClient,
    *,
    payer_key: str,
    grace_seconds: int,
    batch_size: int,
    now: datetime | None = None,
) -> ReconcileReport:
    """Settle what our books still hold open against the PSP: ACTIVE charges and PROCESSING sends older
    than `grace_seconds` (at most `batch_size` of each). An unreachable PSP stops the run (re-raised)."""
    moment = now or datetime.now(UTC)
    report = ReconcileReport()
    async with db.unit_of_work() as session:
        txids = await reconciliation.open_charges(
            session, now=moment, grace_seconds=grace_seconds, limit=batch_size
        )
        id_envios = await reconciliation.processing_sends(
            session, now=moment, grace_seconds=grace_seconds, limit=batch_size
        )
    for txid in txids:
        outcome = await _one(
            db, lambda s, txid=txid: reconciliation.reconcile_charge(s, psp, txid=txid, now=moment), txid=txid
        )
        report.charges[outcome] += 1
    for id_envio in id_envios:
        outcome = await _one(
            db,
            lambda s, i=id_envio: reconciliation.reconcile_send(s, psp, id_envio=i, payer_key=payer_key),
            id_envio=id_envio,
        )
        report.sends[outcome] += 1
    log.info("pix.reconciled", charges=dict(report.charges), sends=dict(report.sends))
    return report


async def _one(db: Database, work: Callable[[AsyncSession], Awaitable[str]], **context: str) -> str:
    try:
        async with db.unit_of_work() as session:
            return await work(session)
    except PspUnavailable:
        raise
    except Exception:
        log.exception("pix.reconcile.item_failed", **context)
        return "error"


def _settings() -> Settings:
    return current_runtime().settings or get_settings()


@app.periodic(cron=get_settings().pix_reconcile_cron, periodic_id="pix-reconcile")
@app.task(name="pix.reconcile", lock="pix.reconcile", queueing_lock="pix.reconcile")
async def reconcile_job(timestamp: int) -> None:
    """The periodic run, with a PSP client of its own for the run."""
    settings = _settings()
    async with EfiClient.from_settings(settings) as psp:
        await reconcile(
            current_runtime().db,
            psp,
            payer_key=settings.psp_pix_key,
            grace_seconds=settings.pix_reconcile_grace_seconds,
            batch_size=settings.pix_reconcile_batch_size,
        )


@job_task(
    name=service.SUBMIT_SEND_TASK, retry=Retry(max_attempts=8, backoff_seconds=2, max_backoff_seconds=300)
)
async def submit_send_job(session: AsyncSession, *, id_envio: str) -> None:
    """Hand a committed send to the PSP; an unreachable PSP is retried with backoff (and reconciliation
    re-submits a send the PSP never received)."""
    settings = _settings()
    async with EfiClient.from_settings(settings) as psp:
        await service.submit_send(session, psp, id_envio=id_envio, payer_key=settings.psp_pix_key)
