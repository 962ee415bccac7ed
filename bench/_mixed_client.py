"""The mixed day's load generator: one HTTP client over several API instances, each request sent to the
next instance in turn (what a round-robin balancer does), its latency and status noted under its route
template so the figures group `/rides/{id}/accept` across rides."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from typing import Any

import httpx


class RoundRobin:
    def __init__(self, bases: list[str], *, connections: int = 64, timeout: float = 60) -> None:
        # idle connections dropped before uvicorn's 5 s keep-alive closes them: no reuse racing the close
        limits = httpx.Limits(
            max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=2
        )
        self.clients = [httpx.AsyncClient(base_url=b, limits=limits, timeout=timeout) for b in bases]
        self.samples: defaultdict[str, list[tuple[float, int | str]]] = defaultdict(list)
        """Per route, each call's latency and status (the exception's name when no answer came)."""
        self._turn = itertools.count()

    async def call(self, route: str, path: str | None = None, **request: Any) -> httpx.Response | None:
        """`route` is "METHOD /template"; `path` the concrete path (the template's own when None)."""
        method, template = route.split(" ", 1)
        client = self.clients[next(self._turn) % len(self.clients)]
        started = time.perf_counter()
        try:
            answer = await client.request(method, path or template, **request)
        except httpx.TransportError as error:
            self.samples[route].append((time.perf_counter() - started, type(error).__name__))
            return None
        self.samples[route].append((time.perf_counter() - started, answer.status_code))
        return answer

    async def hammer(self, route: str, lanes: int, seconds: float) -> float:
        """`lanes` loops calling `route` back to back for `seconds`; returns the wall time they took."""
        stop = time.monotonic() + seconds

        async def lane() -> None:
            while time.monotonic() < stop:
                await self.call(route)

        started = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(lanes)))
        return time.perf_counter() - started

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self.clients))


def ok(answer: httpx.Response | None) -> bool:
    return answer is not None and answer.is_success
