"""Running the sandbox: `serve_sandbox` (blocking, for `laura psp-sandbox`) and `BackgroundServer`
(a uvicorn in a daemon thread on a pre-bound port, for tests and for `laura up`)."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Self

import uvicorn

from laura.pix.sandbox.app import create_sandbox_app
from laura.pix.sandbox.config import SandboxConfig


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """Server certificate and key (PEM); with `client_ca`, clients must present a certificate it signed."""

    cert: str
    key: str
    client_ca: str | None = None

    def uvicorn_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"ssl_certfile": self.cert, "ssl_keyfile": self.key}
        if self.client_ca:
            options.update(ssl_ca_certs=self.client_ca, ssl_cert_reqs=ssl.CERT_REQUIRED)
        return options


def serve_sandbox(
    host: str,
    port: int,
    *,
    client_id: str,
    client_secret: str,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    tls_client_ca: str | None = None,
    log_level: str = "info",
    send_settle_delay: float | None = None,
) -> None:
    """Run the sandbox until interrupted; with TLS and a client CA it demands client certificates (mTLS).
    A longer `send_settle_delay` keeps sends in flight longer (e.g. to crash the platform mid-send)."""
    if (tls_cert is None) != (tls_key is None) or (tls_client_ca and not tls_cert):
        raise ValueError("tls_cert and tls_key go together, and tls_client_ca needs them")
    config = SandboxConfig(client_id=client_id, client_secret=client_secret)
    if send_settle_delay is not None:
        config = replace(config, send_settle_delay=send_settle_delay)
    app = create_sandbox_app(config)
    tls = TlsFiles(tls_cert, tls_key, tls_client_ca) if tls_cert and tls_key else None
    uvicorn.run(app, host=host, port=port, log_level=log_level, **(tls.uvicorn_options() if tls else {}))


class BackgroundServer:
    """An ASGI app served by uvicorn in a daemon thread; the port is bound before start returns."""

    def __init__(
        self, app: Any, *, host: str = "127.0.0.1", port: int = 0, tls: TlsFiles | None = None
    ) -> None:
        self._socket = socket.create_server((host, port))
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        self.scheme = "https" if tls else "http"
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=5,
            **(tls.uvicorn_options() if tls else {}),
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"uvicorn-{self.port}",
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> Self:
        """Start serving; returns once uvicorn accepts connections (or raises after `timeout`)."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Ask uvicorn to shut down (running the app's lifespan exit) and wait for the thread."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._socket.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_sandbox_in_background(
    config: SandboxConfig, *, host: str = "127.0.0.1", port: int = 0, tls: TlsFiles | None = None
) -> BackgroundServer:
    """A running sandbox in this process, reachable over real HTTP(S) at `.url`."""
    return BackgroundServer(create_sandbox_app(config), host=host, port=port, tls=tls).start()
