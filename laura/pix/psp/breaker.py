"""A small circuit breaker, so a dead PSP costs callers an exception instead of a timeout each.

Written here on purpose: the async circuit breakers on PyPI are either unmaintained or built around
decorators and global registries that don't fit a client that must classify outcomes itself (a 4xx
proves the PSP is alive; a timeout or a 5xx does not).

closed --N consecutive failures--> open --cooldown elapsed--> half-open (one probe at a time)
half-open --probe succeeds--> closed;  half-open --probe fails--> open (a fresh cooldown)

It is not thread-safe: one instance lives on one event loop, and no method awaits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

import structlog

log = structlog.get_logger(__name__)


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(Exception):
    """Raised by `before_call` when the call must not be attempted."""


class CircuitBreaker:
    """Counts consecutive failures and refuses calls while the PSP is presumed down."""

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        name: str = "psp",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or reset_timeout <= 0:
            raise ValueError("failure_threshold must be >= 1 and reset_timeout > 0")
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.name = name
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False

    @property
    def state(self) -> BreakerState:
        """The current state; an open breaker whose cooldown has elapsed reads as half-open."""
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.reset_timeout:
            self._state = BreakerState.HALF_OPEN
            self._probe_in_flight = False
            log.info("psp.breaker.half_open", breaker=self.name)
        return self._state

    def before_call(self) -> None:
        """Let a call through or raise `CircuitOpen`; in half-open only one probe goes at a time."""
        state = self.state
        if state is BreakerState.OPEN:
            raise CircuitOpen(self.name)
        if state is BreakerState.HALF_OPEN:
            if self._probe_in_flight:
                raise CircuitOpen(self.name)
            self._probe_in_flight = True

    def record_success(self) -> None:
        """The PSP answered: close the circuit and forget past failures."""
        if self._state is not BreakerState.CLOSED:
            log.info("psp.breaker.closed", breaker=self.name)
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._probe_in_flight = False

    def record_failure(self) -> None:
        """The PSP failed: open after `failure_threshold` in a row, or at once when probing."""
        self._failures += 1
        self._probe_in_flight = False
        if self._state is BreakerState.HALF_OPEN or self._failures >= self.failure_threshold:
            if self._state is not BreakerState.OPEN:
                log.warning("psp.breaker.open", breaker=self.name, failures=self._failures)
            self._state = BreakerState.OPEN
            self._opened_at = self._clock()

    def release(self) -> None:
        """A call ended without telling us anything (e.g. cancelled): free the probe slot."""
        self._probe_in_flight = False
