"""`/ws` and `/ws/{token}`: each user's domain events, live, with replay after a reconnect.

The socket is accepted before the caller is checked so a refusal can carry close code 4401 (a refusal
before the handshake would only be an HTTP 403 the client cannot tell apart from anything else).

A web page of ours connects with no token: its session cookie rides along, as on every page. A browser
sends cookies with a WebSocket opened by any site (SameSite does not cover a cross-site handshake the way
it covers a form post), so a cookie is only believed when the handshake's `Origin` is our own host (or one
of `cors_origins`); otherwise the socket closes with 4403 and no event is sent.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.datastructures import State
from starlette.websockets import WebSocketState

from laura.core.events import Event, EventRuntime
from laura.core.events.event import dumps
from laura.core.events.hub import Subscription
from laura.core.observability import request_context
from laura.core.security import FieldCipher
from laura.identity.errors import InvalidToken
from laura.identity.otp.delivery import socket_frame
from laura.identity.session_cookie import COOKIE
from laura.realtime.service import SocketIdentity, authenticate, authenticate_cookie

router = APIRouter(tags=["realtime"])

UNAUTHORIZED = 4401
"""Close code for a missing, expired or revoked token or session (4000-4999 are the application's to
define)."""
CROSS_SITE = 4403
"""Close code for a session cookie on a handshake from another site's page."""
TRY_AGAIN_LATER = 1013
"""Close code for a client too slow to keep up; it should reconnect with `?since=`."""

_MIN_RECHECK_SECONDS = 0.05
_UNKNOWN_MESSAGE = 'Unknown message; the client may send {"type": "ping"}'
_log = structlog.get_logger("laura.realtime")

Authenticator = Callable[[], Awaitable[SocketIdentity]]
"""Who is calling, asked when the socket opens and again by the watchdog; raises InvalidToken."""


@router.websocket("/ws")
async def events_socket(websocket: WebSocket, token: str | None = None, since: int | None = None) -> None:
    """Stream the caller's events. Send the access token as subprotocols `["bearer", "<token>"]` (the
    server answers `bearer`), or as `?token=`; a page of this site may send neither and ride its web
    session cookie. `?since=<event id>` replays what was missed."""
    offered = websocket.scope.get("subprotocols") or []
    if len(offered) >= 2 and offered[0].lower() == "bearer":
        await _serve(websocket, _by_token(websocket.app.state, offered[1]), since, subprotocol="bearer")
    elif token is None and COOKIE in websocket.cookies:
        await _serve_cookie(websocket, since)
    else:
        await _serve(websocket, _by_token(websocket.app.state, token), since)


@router.websocket("/ws/{token}")
async def events_socket_with_path_token(websocket: WebSocket, token: str, since: int | None = None) -> None:
    """The same stream with the access token in the path, as the mobility spec writes it."""
    await _serve(websocket, _by_token(websocket.app.state, token), since)


def _by_token(state: State, token: str | None) -> Authenticator:
    return lambda: authenticate(db=state.db, signer=state.signer, settings=state.settings, token=token)


def same_site(websocket: WebSocket, allowed: list[str]) -> bool:
    """The handshake came from a page of this host (or of an allowed origin): a browser always sends
    `Origin` with a WebSocket and a page cannot forge it; a missing one is not a page of ours."""
    origin = websocket.headers.get("origin")
    if not origin:
        return False
    if origin.rstrip("/") in {allowed_origin.rstrip("/") for allowed_origin in allowed}:
        return True
    host = websocket.headers.get("host", "")
    return bool(host) and urlsplit(origin).netloc.lower() == host.lower()


async def _serve_cookie(websocket: WebSocket, since: int | None) -> None:
    state = websocket.app.state
    if not same_site(websocket, state.settings.cors_origins):
        await websocket.accept()
        await websocket.close(code=CROSS_SITE, reason="a session cookie from another site's page")
        return
    cookie = websocket.cookies.get(COOKIE)

    async def by_cookie() -> SocketIdentity:
        return await authenticate_cookie(
            db=state.db, signer=state.signer, settings=state.settings, secret=state.web_secret, cookie=cookie
        )

    await _serve(websocket, by_cookie, since)


async def _serve(
    websocket: WebSocket, who: Authenticator, since: int | None, *, subprotocol: str | None = None
) -> None:
    state = websocket.app.state
    await websocket.accept(subprotocol=subprotocol)
    try:
        identity = await who()
    except InvalidToken:
        await websocket.close(code=UNAUTHORIZED, reason="invalid, expired or revoked token")
        return
    principal = identity.principal
    ctx = request_context()
    if ctx is not None:
        ctx.user_id = str(principal.id)
    runtime: EventRuntime = state.events
    code: int | None = None
    with runtime.hub.subscribe(str(principal.id), principal.role) as subscription:
        try:
            if since is not None:
                await _replay(
                    websocket, runtime, subscription, identity, since, state.settings.ws_backlog_limit
                )
            code = await _pump(websocket, subscription, state, identity, who)
        except WebSocketDisconnect:
            return
    if code is not None and websocket.application_state == WebSocketState.CONNECTED:
        try:
            await websocket.close(code=code)
        except (WebSocketDisconnect, RuntimeError):
            pass


async def _replay(
    websocket: WebSocket,
    runtime: EventRuntime,
    subscription: Subscription,
    identity: SocketIdentity,
    since: int,
    limit: int,
) -> None:
    """Send what was missed; the subscription already queues live events, which skip what replay sent."""
    principal = identity.principal
    events, truncated = await runtime.replay(
        user_id=principal.id, role=principal.role, since_id=since, limit=limit
    )
    if truncated:
        await websocket.send_text(dumps({"type": "replay.truncated", "data": {"limit": limit}}))
    cipher = websocket.app.state.cipher
    for event in events:
        if subscription.first_sight(event):
            await websocket.send_text(dumps(socket_frame(cipher, principal.id, event.wire())))


async def _pump(
    websocket: WebSocket,
    subscription: Subscription,
    state: State,
    identity: SocketIdentity,
    who: Authenticator,
) -> int | None:
    """Run reader, writer and token watchdog until one ends; returns the close code (None: client left)."""
    tasks = [
        asyncio.create_task(_read(websocket, subscription)),
        asyncio.create_task(_write(websocket, subscription, state.cipher, identity.principal.id)),
        asyncio.create_task(_watch(state, identity, who)),
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return done.pop().result()


async def _read(websocket: WebSocket, subscription: Subscription) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        try:
            frame = json.loads(message.get("text") or message.get("bytes") or "null")
        except ValueError:
            frame = None
        if isinstance(frame, dict) and frame.get("type") == "ping":
            subscription.offer({"type": "pong"})
        else:
            subscription.offer({"type": "error", "data": {"message": _UNKNOWN_MESSAGE}})


async def _write(
    websocket: WebSocket, subscription: Subscription, cipher: FieldCipher, user_id: uuid.UUID
) -> int | None:
    while True:
        item = await subscription.queue.get()
        if item is None:
            return TRY_AGAIN_LATER
        if isinstance(item, Event):
            if not subscription.first_sight(item):
                continue
            item = socket_frame(cipher, user_id, item.wire())
        try:
            await websocket.send_text(dumps(item))
        except WebSocketDisconnect:
            return None


async def _watch(state: State, identity: SocketIdentity, who: Authenticator) -> int:
    """Re-check the caller every `ws_auth_recheck_seconds` and at its expiry: a logout closes the socket."""
    interval = state.settings.ws_auth_recheck_seconds
    while True:
        await asyncio.sleep(max(_MIN_RECHECK_SECONDS, min(interval, identity.expires_at - time.time())))
        try:
            identity = await who()
        except InvalidToken:
            return UNAUTHORIZED
        except Exception as exc:  # noqa: BLE001 - a database hiccup keeps the socket; expiry is checked locally
            _log.warning("websocket_recheck_failed", error=repr(exc))
