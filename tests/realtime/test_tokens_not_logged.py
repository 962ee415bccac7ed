"""No token in a log line: `laura serve` on a real socket, with INFO logs and uvicorn's access log on, takes
WebSocket clients with the token in each accepted form (subprotocol, `?token=`, `/ws/{token}`) and HTTP
requests carrying it in the Authorization header and a query string (and a PSP webhook its `?hmac=` secret). Every connection works (receives its
event), the handshakes and requests are logged, and the captured stdout/stderr never holds the token."""

from __future__ import annotations

import json
import secrets

import httpx

from laura.core.db import Database
from laura.core.events import publish
from tests.helpers import login, register
from tests.realtime.client import listening
from tests.server_process import laura_env, laura_process

FORMS = ("subprotocol", "query", "path")


async def test_tokens_never_reach_the_logs_whatever_form_carries_them(database_url, tmp_path) -> None:
    webhook_secret = secrets.token_urlsafe(24)
    env = laura_env(
        database_url,
        tmp_path / "data",
        LAURA_LOG_LEVEL="INFO",
        LAURA_ACCESS_LOG="true",
        LAURA_EVENTS_POLL_SECONDS="0.5",
        LAURA_PSP_WEBHOOK_SECRET=webhook_secret,
    )
    db = Database(database_url)
    try:
        async with (
            laura_process(["serve"], env, tmp_path / "run") as laura,
            httpx.AsyncClient(base_url=laura.url) as http,
        ):
            user = await register(http, user_type="passenger")
            tokens = await login(http, user["email"])
            access = tokens["accessToken"]
            me = await http.get(
                "/auth/me", params={"token": access}, headers={"Authorization": f"Bearer {access}"}
            )
            assert me.status_code == 200, me.text
            webhook = await http.post(
                "/webhooks/efi/pix", params={"hmac": webhook_secret, "ignorar": "/pix"}, json={"pix": []}
            )
            assert webhook.status_code == 200, webhook.text
            ws_base = laura.url.replace("http://", "ws://")
            for form in FORMS:
                async with listening(ws_base, access, how=form) as socket:
                    async with db.unit_of_work() as session:
                        await publish(session, "ride.accepted", {"form": form}, user_ids=[user["id"]])
                    frame = await socket.frame()
                    assert (frame["type"], frame["data"]) == ("ride.accepted", {"form": form})
    finally:
        await db.dispose()

    logged = laura.output()
    messages = [json.loads(line)["event"] for line in logged.splitlines() if line.startswith("{")]
    assert any('"GET /auth/me?token=[redacted] HTTP/1.1" 200' in m for m in messages), logged[-5000:]
    assert any("/webhooks/efi/pix?hmac=[redacted]&ignorar=%2Fpix" in m for m in messages), logged[-5000:]
    for path in ("/ws", "/ws?token=[redacted]", "/ws/[redacted]"):
        assert any(f'"WebSocket {path}" [accepted]' in m for m in messages), (path, logged[-5000:])
    for secret in (access, access.rsplit(".", 1)[1], tokens["refreshToken"], webhook_secret):
        assert secret not in logged, [line for line in logged.splitlines() if secret in line]
