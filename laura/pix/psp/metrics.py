"""Prometheus metrics of the PSP client, registered once in the default registry."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
