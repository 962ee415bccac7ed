"""The spec's payment metrics, moved once a ride's Pix payment committed (the purpose's paid hook)."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import Counter, Histogram

from laura.pix.models import PaidCharge

PAYMENTS_CONFIRMED = Counter("payments_confirmed_total", "Ride payments confirmed")
PAYMENTS_CONFIRMED_AMOUNT = Counter(
    "payments_confirmed_amount_total", "Reais (BRL, not cents) of ride payments confirmed, fares and fees"
)
PAYMENT_CONFIRMATION_DELAY = Histogram(
    "payment_confirmation_delay_seconds",
    "Time from a ride's Pix charge to its confirmed payment",
    buckets=(5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600),
)


async def count_confirmed(charge: PaidCharge) -> None:
    PAYMENTS_CONFIRMED.inc()
    PAYMENTS_CONFIRMED_AMOUNT.inc(charge.amount_cents / 100)
    PAYMENT_CONFIRMATION_DELAY.observe(max(0.0, (datetime.now(UTC) - charge.created_at).total_seconds()))
