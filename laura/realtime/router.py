"""`/ws` and `/ws/{token}`: each user's domain events, live, with replay after a reconnect.

The socket is accepted before the token is checked so a refusal can carry close code 4401 (a refusal
before the handshake would only be an HTTP 403 the client cannot tell apart from anything else).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

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
from laura.realtime.service import SocketIdentity, authenticate

router = APIRouter(tags=["realtime"])

UNAUTHORIZED = 4401
"""Close code for a missing, expired or revoked token (4000-4999 are the application's to define)."""
TRY_AGAIN_LATER = 1013
"""Close code for a client too slow to keep up; it should reconnect with `?since=`."""

_MIN_RECHECK_SECONDS = 0.05
_UNKNOWN_MESSAGE = 'Unknown message; the client may send {"type": "ping"}'
_log = structlog.get_logger("laura.realtime")


@router.websocket("/ws")
async def events_socket(websocket: WebSocket, token: str | None = None, since: int | None = None) -> None:
    """Stream the caller's events. Send the access token as subprotocols `["bearer", "<token>"]` (the
    server answers `bearer`), or as `?token=`; `?since=<event id>` replays what was missed."""
    offered = websocket.scope.get("subprotocols") or []
    if len(offered) >= 2 and offered[0].lower() == "bearer":
        await _serve(websocket, offered[1], since, subprotocol="bearer")
    else:
        await _serve(websocket, token, since)


@router.websocket("/ws/{token}")
async def events_socket_with_path_token(websocket: WebSocket, token: str, since: int | None = None) -> None:
    """The same stream with the access token in the path, as the mobility spec writes it."""
    await _serve(websocket, token, since)


async def _authenticate(state: State, token: str | None) -> SocketIdentity:
    return await authenticate(db=state.db, signer=state.signer, settings=state.settings, token=token)


async def _serve(
    websocket: WebSocket, token: str | None, since: int | None, *, subprotocol: str | None = None
) -> None:
    state = websocket.app.state
    await websocket.accept(subprotocol=subprotocol)
    try:
        identity = await _authenticate(state, token)
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
            code = await _pump(websocket, subscription, state, identity, token)
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
    token: str | None,
) -> int | None:
    """Run reader, writer and token watchdog until one ends; returns the close code (None: client left)."""
    tasks = [
        asyncio.create_task(_read(websocket, subscription)),
        asyncio.create_task(_write(websocket, subscription, state.cipher, identity.principal.id)),
        asyncio.create_task(_watch(state, identity, token)),
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


async def _watch(state: State, identity: SocketIdentity, token: str | None) -> int:
    """Re-check the token every `ws_auth_recheck_seconds` and at its expiry: a logout closes the socket."""
    interval = state.settings.ws_auth_recheck_seconds
    while True:
        await asyncio.sleep(max(_MIN_RECHECK_SECONDS, min(interval, identity.expires_at - time.time())))
        try:
            identity = await _authenticate(state, token)
        except InvalidToken:
            return UNAUTHORIZED
        except Exception as exc:  # noqa: BLE001 - a database hiccup keeps the socket; expiry is checked locally
            _log.warning("websocket_recheck_failed", error=repr(exc))
