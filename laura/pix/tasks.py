"""Pix background work: submitting a recorded send to the PSP, and reconciliation.

`reconcile(...)` is the reconciliation itself (tests and ops call it directly). Three jobs run it:
`pix.reconcile` every `LAURA_PIX_RECONCILE_CRON` (default every 5 minutes, charges and sends);
`pix.recheck_sends` every `LAURA_PIX_SEND_RECHECK_CRON` (default every minute, sends only, shorter grace);
and `pix.reconcile_at_start`, which every worker enqueues as it starts, so a crash costs seconds, not
minutes. Unlike a `@job_task`, they commit each charge or send in its own unit of work: one PSP answer that
cannot be applied does not undo the others, and no lock outlives the item it protects.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import Database
from laura.core.jobs import Retry, app, at_worker_start, current_runtime, job_task
from laura.pix import reconciliation, service
from laura.pix.internal import WITHDRAW_TASK
from laura.pix.psp import EfiClient, PspError, PspUnavailable
from laura.settings import get_settings

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
    await reconcile_charges(db, psp, report, grace_seconds=grace_seconds, batch_size=batch_size, now=moment)
    await reconcile_sends(
        db, psp, report, payer_key=payer_key, grace_seconds=grace_seconds, batch_size=batch_size, now=moment
    )
    log.info("pix.reconciled", charges=dict(report.charges), sends=dict(report.sends))
    return report


async def reconcile_charges(
    db: Database,
    psp: EfiClient,
    report: ReconcileReport,
    *,
    grace_seconds: int,
    batch_size: int,
    now: datetime,
) -> None:
    """The charges half of `reconcile`, counted into `report`."""
    async with db.unit_of_work() as session:
        txids = await reconciliation.open_charges(
            session, now=now, grace_seconds=grace_seconds, limit=batch_size
        )
    for txid in txids:
        outcome = await _one(
            db, functools.partial(reconciliation.reconcile_charge, psp=psp, txid=txid, now=now), txid=txid
        )
        report.charges[outcome] += 1


async def reconcile_sends(
    db: Database,
    psp: EfiClient,
    report: ReconcileReport,
    *,
    payer_key: str,
    grace_seconds: int,
    batch_size: int,
    now: datetime,
) -> None:
    """The sends half of `reconcile`, counted into `report`."""
    async with db.unit_of_work() as session:
        id_envios = await reconciliation.processing_sends(
            session, now=now, grace_seconds=grace_seconds, limit=batch_size
        )
    for id_envio in id_envios:
        outcome = await _one(
            db,
            functools.partial(reconciliation.reconcile_send, psp=psp, id_envio=id_envio, payer_key=payer_key),
            id_envio=id_envio,
        )
        report.sends[outcome] += 1


async def _one(db: Database, work: Callable[[AsyncSession], Awaitable[str]], **context: str) -> str:
    try:
        async with db.unit_of_work() as session:
            return await work(session)
    except PspUnavailable:
        raise
    except Exception:
        log.exception("pix.reconcile.item_failed", **context)
        return "error"


@app.periodic(cron=get_settings().pix_reconcile_cron, periodic_id="pix-reconcile")
@app.task(name=service.RECONCILE_TASK, queueing_lock=service.RECONCILE_TASK)
async def reconcile_job(timestamp: int) -> None:
    """The periodic run, with a PSP client of its own for the run. No `lock`: a run killed with its worker
    would hold it until the stalled job is retried; overlapping runs are safe (each item is settled under
    its row lock, once)."""
    settings = current_runtime().settings
    async with EfiClient.from_settings(settings) as psp:
        await reconcile(
            current_runtime().db,
            psp,
            payer_key=settings.psp_pix_key,
            grace_seconds=settings.pix_reconcile_grace_seconds,
            batch_size=settings.pix_reconcile_batch_size,
        )


@app.periodic(cron=get_settings().pix_send_recheck_cron, periodic_id="pix-recheck-sends")
@app.task(name="pix.recheck_sends", queueing_lock="pix.recheck_sends")
async def recheck_sends_job(timestamp: int) -> None:
    """Money is on its way out: a send still PROCESSING after `LAURA_PIX_SEND_RECHECK_GRACE_SECONDS` (its
    webhook lost, its submit job died with a worker) is read back at the PSP every minute, not every five,
    and submitted again under the same idEnvio if the PSP never got it (so it can never leave twice)."""
    settings = current_runtime().settings
    report = ReconcileReport()
    async with EfiClient.from_settings(settings) as psp:
        await reconcile_sends(
            current_runtime().db,
            psp,
            report,
            payer_key=settings.psp_pix_key,
            grace_seconds=settings.pix_send_recheck_grace_seconds,
            batch_size=settings.pix_reconcile_batch_size,
            now=datetime.now(UTC),
        )
    if report.sends:
        log.info("pix.sends_rechecked", sends=dict(report.sends))


@at_worker_start
@app.task(
    name="pix.reconcile_at_start",
    queueing_lock="pix.reconcile_at_start",
    retry=Retry(max_attempts=10, backoff_seconds=1, max_backoff_seconds=60),
)
async def reconcile_at_start_job() -> None:
    """What a starting worker runs first: after a crash, any PROCESSING send may have lost its submit job
    (left `doing` by the dead worker) or its webhook (the API was down), so every one of them is read back
    at once, with no grace; charges get the usual grace (a payment's webhook may still be coming). An
    unreachable PSP is retried with backoff (a worker may start before it)."""
    settings = current_runtime().settings
    moment = datetime.now(UTC)
    report = ReconcileReport()
    db = current_runtime().db
    async with EfiClient.from_settings(settings) as psp:
        await reconcile_charges(
            db,
            psp,
            report,
            grace_seconds=settings.pix_reconcile_grace_seconds,
            batch_size=settings.pix_reconcile_batch_size,
            now=moment,
        )
        await reconcile_sends(
            db,
            psp,
            report,
            payer_key=settings.psp_pix_key,
            grace_seconds=0,
            batch_size=settings.pix_reconcile_batch_size,
            now=moment,
        )
    log.info("pix.reconciled_at_start", charges=dict(report.charges), sends=dict(report.sends))


@job_task(
    name=service.SUBMIT_SEND_TASK, retry=Retry(max_attempts=8, backoff_seconds=2, max_backoff_seconds=300)
)
async def submit_send_job(session: AsyncSession, *, id_envio: str) -> None:
    """Hand a committed send to the PSP; an unreachable PSP is retried with backoff (and reconciliation
    re-submits a send the PSP never received)."""
    settings = current_runtime().settings
    async with EfiClient.from_settings(settings) as psp:
        await service.submit_send(session, psp, id_envio=id_envio, payer_key=settings.psp_pix_key)


@job_task(name=WITHDRAW_TASK, retry=Retry(max_attempts=8, backoff_seconds=2, max_backoff_seconds=300))
async def withdraw_charge_job(session: AsyncSession, *, txid: str) -> str:
    """Withdraw at the PSP a charge paid inside Laura (`laura.pix.internal`), retried while the PSP is
    unreachable. A refusal (Efí will not remove a charge already paid or gone) is logged and the job is
    done: a Pix that paid it meanwhile reaches the intake, which records it for review."""
    async with EfiClient.from_settings(current_runtime().settings) as psp:
        try:
            await psp.cancel_charge(txid)
        except PspError as exc:  # PspUnavailable is not one: the job retries it
            log.warning("pix.withdraw_charge.refused", txid=txid, reason=exc.message)
            return "refused"
    return "withdrawn"


@app.periodic(cron="37 * * * *", periodic_id="pix-prune-webhook-deliveries")
@job_task(name="pix.prune_webhook_deliveries", queueing_lock="pix.prune_webhook_deliveries")
async def prune_webhook_deliveries_job(session: AsyncSession, *, timestamp: int) -> int:
    """Hourly, only with `LAURA_WEBHOOK_DELIVERIES_RETENTION_DAYS` set: deliveries past it are deleted,
    10,000 per run (a backlog goes in a few hours without one long transaction)."""
    return await service.prune_webhook_deliveries(
        session,
        now=datetime.now(UTC),
        retention_days=current_runtime().settings.webhook_deliveries_retention_days,
    )
