"""The server process of bench/webhooks.py: the real app, configured by LAURA_* variables, with a handler
for the benchmark's charge purpose registered in this process (the handler registry is in-process).

    python bench/_webhook_server.py <port> [<workers>]

The handler books nothing in the ledger; it inserts one row into `bench_pix_effects`, so the benchmark
can count double applications afterwards with SQL.
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from laura.app import create_app
from laura.core.db import execute
from laura.pix.service import register_pix_handler

PURPOSE = "bench.webhook"


async def record_effect(session, charge, pix) -> None:  # type: ignore[no-untyped-def]
    """One observable row per application of a Pix, in the applying transaction (on the driver, as a
    hot-path handler would be written)."""
    await execute(session, "INSERT INTO bench_pix_effects (txid) VALUES ($1)", charge.txid)


def bench_app():  # type: ignore[no-untyped-def]
    """The app factory each uvicorn worker process calls: registers the handler, then builds the app."""
    register_pix_handler(PURPOSE, record_effect)
    return create_app()


if __name__ == "__main__":
    uvicorn.run(
        "_webhook_server:bench_app",
        factory=True,
        app_dir=str(Path(__file__).parent),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        workers=int(sys.argv[2]) if len(sys.argv) > 2 else 1,
        timeout_keep_alive=75,
        log_config=None,
        log_level="warning",
        access_log=False,
    )
