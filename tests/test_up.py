"""`laura up` on a fresh data dir: embedded PostgreSQL, migrations, demo data, sandbox, API and worker;
it answers /ready, a printed demo login works, the webhook is registered with the data dir's own secret,
and SIGTERM (or Ctrl-C) stops everything, the sandbox included."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _registered_webhook(psp_port: int) -> str:
    """The URL the sandbox started by `laura up` posts Pix news to (its default credentials)."""
    psp = f"http://127.0.0.1:{psp_port}"
    token = httpx.post(
        f"{psp}/oauth/token",
        json={"grant_type": "client_credentials"},
        auth=("laura-sandbox", "laura-sandbox-secret"),
    ).json()["access_token"]
    hook = httpx.get(f"{psp}/v2/webhook/pix@laura.example", headers={"Authorization": f"Bearer {token}"})
    return str(hook.json()["webhookUrl"])


def test_up_starts_a_fresh_platform_and_stops_cleanly(tmp_path):
    port, psp_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAURA_")}
    env.update({"LAURA_RATE_LIMITS_ENABLED": "false", "LAURA_LOG_LEVEL": "WARNING"})
    data_dir = tmp_path / "data"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "laura",
            "up",
            "--demo",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--psp-port",
            str(psp_port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        ready = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                ready = httpx.get(f"{base}/ready", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert ready is not None and ready.status_code == 200, (
            process.stdout.read() if process.poll() else ready
        )
        assert ready.json()["checks"]["migrations"] == "ok"
        login = httpx.post(
            f"{base}/auth/login", json={"email": "admin@laura.dev", "password": "laura-demo-2026"}
        )
        assert login.status_code == 200 and login.json()["accessToken"]
        assert (data_dir / "pgdata" / "PG_VERSION").exists()
        secret_file = data_dir / "webhook.secret"
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        assert (
            _registered_webhook(psp_port)
            == f"{base}/webhooks/efi/pix?hmac={secret_file.read_text()}&ignorar="
        )
    finally:
        process.send_signal(signal.SIGTERM)  # as a supervisor stops it; Ctrl-C takes the same way out
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert process.returncode in (0, -signal.SIGINT), output[-3000:]
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", psp_port)) != 0, "the PSP sandbox outlived laura up"
    assert "admin@laura.dev" in output
    assert "stopped" in output
