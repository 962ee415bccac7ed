"""The ledger's health as Prometheus sees it: the periodic `ledger.verify` run's outcome, kept by the worker
that ran it, so `LedgerVerifyFailing` pages on a ledger that stopped adding up without anyone running the CLI."""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge

from laura.ledger.service import VerifyReport

LEDGER_VERIFY_RUNS = Counter(
    "ledger_verify_runs_total", "Periodic ledger verifications by outcome: sound or unsound", ["outcome"]
)
LEDGER_VERIFY_PROBLEMS = Gauge(
    "ledger_verify_problems", "Problems the last periodic ledger verification named (0 = sound)"
)
LEDGER_VERIFY_LAST_RUN = Gauge(
    "ledger_verify_last_run_timestamp_seconds", "Unix time the last periodic ledger verification finished"
)


def record_verification(report: VerifyReport) -> None:
    LEDGER_VERIFY_RUNS.labels("sound" if report.ok else "unsound").inc()
    LEDGER_VERIFY_PROBLEMS.set(len(report.problems))
    LEDGER_VERIFY_LAST_RUN.set(time.time())
