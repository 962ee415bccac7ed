from __future__ import annotations

import socket
from decimal import Decimal

import httpx
import pytest

from laura.pix.psp import BreakerState, CircuitBreaker, PspUnavailable, new_txid
from laura.pix.psp.breaker import CircuitOpen
from laura.pix.sandbox import start_sandbox_in_background

from ..sandbox.fixtures import FAST_CONFIG, wait_until
from .conftest import make_client

KEY = "pix@laura.example"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_consecutive_failures_only() -> None:
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=10, clock=FakeClock())

    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # the streak is broken
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED

    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpen):
        breaker.before_call()


def test_breaker_half_opens_after_the_cooldown_and_lets_one_probe_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=10, clock=clock)
    breaker.record_failure()

    clock.now = 9.9
    assert breaker.state is BreakerState.OPEN
    clock.now = 10
    assert breaker.state is BreakerState.HALF_OPEN

    breaker.before_call()  # the probe
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # others still fail fast
    breaker.record_failure()  # the probe failed: open again, for a fresh cooldown
    assert breaker.state is BreakerState.OPEN

    clock.now = 20
    breaker.before_call()
    breaker.release()  # a cancelled probe frees its slot
    breaker.before_call()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    breaker.before_call()


async def test_client_breaker_opens_on_500s_fails_fast_and_recovers(
    sandbox_url: str, control: httpx.AsyncClient
) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=5, clock=clock)
    async with make_client(sandbox_url, retries=0, breaker=breaker) as efi:
        txid = new_txid()
        await efi.create_charge(txid, Decimal("9.90"), KEY, 600)
        await control.post("/sandbox/faults", json={"http500": {"path_prefix": "/v2/cob", "count": 1000}})

        for _ in range(3):
            with pytest.raises(PspUnavailable):
                await efi.get_charge(txid)
        assert breaker.state is BreakerState.OPEN
        seen = (await control.get("/sandbox/stats")).json()["requests"][f"GET /v2/cob/{txid}"]

        with pytest.raises(PspUnavailable) as caught:
            await efi.get_charge(txid)
        assert caught.value.__cause__ is None  # refused without trying
        assert (await control.get("/sandbox/stats")).json()["requests"][f"GET /v2/cob/{txid}"] == seen

        await control.delete("/sandbox/faults")
        clock.now = 5
        assert breaker.state is BreakerState.HALF_OPEN
        assert (await efi.get_charge(txid)).txid == txid
        assert breaker.state is BreakerState.CLOSED


async def test_client_breaker_opens_on_a_dead_psp_and_closes_when_it_is_back() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=1.0)
    async with make_client(f"http://127.0.0.1:{port}", retries=1, breaker=breaker) as efi:
        for _ in range(2):
            with pytest.raises(PspUnavailable) as caught:
                await efi.get_charge(new_txid())
            assert isinstance(caught.value.__cause__, httpx.ConnectError)
        assert breaker.state in (BreakerState.OPEN, BreakerState.HALF_OPEN)

        server = start_sandbox_in_background(FAST_CONFIG, port=port)
        try:
            await wait_until(lambda: breaker.state is BreakerState.HALF_OPEN, timeout=10)
            charge = await efi.create_charge(new_txid(), Decimal("1.00"), KEY, 600)
            assert charge.status == "ATIVA"
            assert breaker.state is BreakerState.CLOSED
        finally:
            server.stop()
