"""What redacting secrets costs per log line: the `request` line every HTTP request writes, rendered to JSON
with and without `core.redaction.redact_event`, side by side in one run, in CPU time (prints one JSON
line).

    PYTHONPATH=. python bench/log_redaction.py [--lines 50000]
"""

from __future__ import annotations

import argparse
import json
import time

import structlog

from laura.core.redaction import redact_event

REQUEST_LINE = {
    "method": "POST",
    "route": "/api/transfers/p2p",
    "path": "/api/transfers/p2p",
    "status": 201,
    "duration_ms": 12.3,
    "user_id": "8940ef57-d889-41ad-baf7-f242f1d4ba95",
    "client_ip": "127.0.0.1",
    "event": "request",
    "request_id": "051dc9158b7c4201a9d05ac3ed885c3a",
    "level": "info",
    "timestamp": "2026-12-02T15:12:40.291308Z",
}


def _per_line_us(chain: list, lines: int) -> float:
    started = time.process_time()
    for _ in range(lines):
        event = dict(REQUEST_LINE)
        for processor in chain:
            event = processor(None, "info", event)
    return (time.process_time() - started) / lines * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=50_000)
    lines = parser.parse_args().lines
    render = structlog.processors.JSONRenderer()
    plain, redacted = [], []
    for _ in range(5):  # interleaved rounds, best of each: the machine is shared and noisy
        plain.append(_per_line_us([render], lines))
        redacted.append(_per_line_us([redact_event, render], lines))
    print(
        json.dumps(
            {
                "bench": "log_redaction",
                "lines": lines,
                "render_us_per_line": round(min(plain), 2),
                "render_with_redaction_us_per_line": round(min(redacted), 2),
                "redaction_us_per_line": round(min(redacted) - min(plain), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
