"""The job that creates a ride's Pix charge after the completing transaction committed, retried while
the PSP is unreachable; importing this module also registers the purpose's hooks for the worker."""

from __future__ import annotations

import uuid

from procrastinate import JobContext

from laura.core.jobs import Retry, app, current_runtime
from laura.mobility.payments import service
from laura.mobility.rides.lifecycle import utcnow
from laura.pix.psp import EfiClient

RETRY = Retry(max_attempts=8, backoff_seconds=2, max_backoff_seconds=300)


@app.task(name=service.CHARGE_TASK, retry=RETRY, pass_context=True)
async def create_charge_job(context: JobContext, *, intent_id: str) -> str:
    """Charge the intent at the PSP (the txid is ours, so a retried PUT creates nothing twice). Not a
    `job_task`: its units of work are the service's own, so none is open while the PSP answers. The last
    attempt fails the intent rather than leaving it waiting."""
    return await charge(intent_id, last_attempt=context.job.attempts >= RETRY.max_attempts)


async def charge(intent_id: str, *, last_attempt: bool = False) -> str:
    """The job's work, for the worker and for tests that run it inline (under `bind_runtime`)."""
    runtime = current_runtime()
    async with EfiClient.from_settings(runtime.settings) as psp:
        return await service.charge_intent(
            runtime.db,
            psp,
            intent_id=uuid.UUID(intent_id),
            now=utcnow(),
            pix_key=runtime.settings.psp_pix_key,
            last_attempt=last_attempt,
        )
