"""A tiny local HTTP server that answers 200 to every POST and keeps what it received: the collector or the
error tracker a test points the platform at (OTLP spans, Sentry envelopes)."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class CatchingServer:
    url: str
    received: list[Received] = field(default_factory=list)


@contextmanager
def catching_server() -> Iterator[CatchingServer]:
    """Serve on a free local port in a thread until the block ends; gzip bodies are stored inflated."""
    caught: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            caught.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            """Quiet: the test asserts on what arrived."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield CatchingServer(f"http://127.0.0.1:{server.server_address[1]}", caught)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
