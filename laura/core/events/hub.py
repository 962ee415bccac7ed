"""The process-local hub: routes each event from the bus to the subscriptions it is addressed to."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import Gauge

from laura.core.events.event import Event

WEBSOCKET_CONNECTIONS = Gauge("websocket_connections", "Open WebSocket connections on this instance")

Outgoing = Event | dict[str, Any] | None
"""What a subscription's queue holds: an event, a control frame (pong), or None when it fell too far behind."""


class Subscription:
    """One client's queue. It delivers each position once, in increasing order (replay, then live)."""

    def __init__(self, user_id: str, role: str, *, max_pending: int) -> None:
        self.user_id = user_id
        self.role = role
        self.queue: asyncio.Queue[Outgoing] = asyncio.Queue()
        self.max_pending = max_pending
        self.overflowed = False
        self.last_position = 0

    def offer(self, item: Outgoing) -> None:
        """Queue without blocking the hub; a client that falls `max_pending` behind is cut off (it replays)."""
        if self.overflowed:
            return
        if self.queue.qsize() >= self.max_pending:
            self.overflowed = True
            item = None
        self.queue.put_nowait(item)

    def first_sight(self, event: Event) -> bool:
        """True once per event: positions only grow, so anything at or below the last one was sent."""
        if event.position <= self.last_position:
            return False
        self.last_position = event.position
        return True


class Hub:
    def __init__(self, *, max_pending: int = 1000) -> None:
        self.max_pending = max_pending
        self.last_position: int | None = None
        self._by_user: dict[str, set[Subscription]] = defaultdict(set)
        self._by_role: dict[str, set[Subscription]] = defaultdict(set)

    @contextmanager
    def subscribe(self, user_id: str, role: str) -> Iterator[Subscription]:
        """Receive what is addressed to `user_id` or `role` from now on, until the block ends."""
        subscription = Subscription(user_id, role, max_pending=self.max_pending)
        self._by_user[user_id].add(subscription)
        self._by_role[role].add(subscription)
        WEBSOCKET_CONNECTIONS.inc()
        try:
            yield subscription
        finally:
            WEBSOCKET_CONNECTIONS.dec()
            self._discard(self._by_user, user_id, subscription)
            self._discard(self._by_role, role, subscription)

    def dispatch(self, event: Event) -> None:
        """Hand the event to its recipients; an event already dispatched (a relay retry) is dropped."""
        if self.last_position is not None and event.position <= self.last_position:
            return
        self.last_position = event.position
        targets: set[Subscription] = set()
        for user_id in event.user_ids:
            targets |= self._by_user.get(user_id, set())
        for role in event.roles:
            targets |= self._by_role.get(role, set())
        for subscription in targets:
            subscription.offer(event)

    @staticmethod
    def _discard(index: dict[str, set[Subscription]], key: str, subscription: Subscription) -> None:
        members = index.get(key)
        if members is not None:
            members.discard(subscription)
            if not members:
                del index[key]
