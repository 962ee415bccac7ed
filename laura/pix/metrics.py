"""Prometheus metrics of Pix: webhook intake, missed webhooks, charges by purpose and status, charges the
PSP forgot, and the PSP client's calls.

Counters that describe a database change are incremented after its commit (`after_commit`), so a rolled
back transaction counts nothing.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import after_commit

WEBHOOK_DELIVERIES = Counter(
    "webhook_deliveries_total",
    "PSP webhook deliveries by outcome: applied (a Pix counted), duplicate (nothing new), "
    "unmatched (recorded for ops), unconfirmed (a Pix the PSP does not confirm, nothing applied), "
    "rejected (unauthenticated or unreadable)",
    ["outcome"],
)
WEBHOOK_UNCONFIRMED = Counter(
    "pix_webhook_unconfirmed_total",
    "Received Pix of webhook deliveries not applied because the PSP did not confirm them: unknown_e2e_id, "
    "txid_mismatch, amount_mismatch, or psp_unavailable (answered 503, the PSP delivers again)",
    ["reason"],
)
WEBHOOKS_MISSED = Counter(
    "webhooks_missed_total",
    "Pix applied by reconciliation because their webhook never arrived",
)
PIX_CHARGES = Counter(
    "pix_charges_total",
    "Pix charges entering a status (ACTIVE when created), by purpose",
    ["purpose", "status"],
)
CHARGES_ORPHANED = Counter(
    "pix_charges_orphaned",
    "Charges past their expiry that the PSP no longer knows (404, e.g. after a PSP restart), closed as EXPIRED",
)

PSP_REQUESTS = Counter(
    "psp_requests_total",
    "PSP calls by operation and outcome (success, psp_error, unavailable, circuit_open)",
    ["operation", "outcome"],
)
PSP_REQUEST_DURATION = Histogram(
    "psp_request_duration_seconds",
    "Wall time of a PSP call, retries included",
    ["operation"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def count_after_commit(session: AsyncSession, counter: Counter, *labels: str) -> None:
    """Increment `counter` (with `labels`) once the session's transaction has committed."""
    child = counter.labels(*labels) if labels else counter

    async def increment() -> None:
        child.inc()

    after_commit(session, increment)
