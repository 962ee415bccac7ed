"""Property: any interleaving of posts, holds, partial and full hold posts, voids and reversals, run by
concurrent sessions over the real database, leaves a ledger that verifies and no flagged account below
zero."""

from __future__ import annotations

import asyncio
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import Database
from laura.core.errors import AppError
from laura.ledger import service as ledger
from laura.ledger.errors import (
    AlreadyReversed,
    HoldNotPending,
    InsufficientFunds,
    InvalidLines,
    TransactionNotFound,
)

CUSTOMERS = 4
WORKERS = 4
FEE = "4300"
EXPECTED_REFUSALS = (InsufficientFunds, HoldNotPending, TransactionNotFound, AlreadyReversed, InvalidLines)

customer = st.integers(0, CUSTOMERS - 1)
amount = st.integers(1, 3_000)
earlier = st.integers(0, 39)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("post"), customer, customer, amount),
        st.tuples(st.just("post_with_fee"), customer, customer, amount),
        st.tuples(st.just("hold"), customer, customer, amount),
        st.tuples(st.just("post_hold"), earlier, st.one_of(st.none(), st.integers(1, 100))),
        st.tuples(st.just("void"), earlier),
        st.tuples(st.just("reverse"), earlier),
    ),
    min_size=5,
    max_size=40,
)


async def _apply(session: AsyncSession, run: str, k: int, op: tuple, codes: list[str]) -> None:
    reference = f"{run}-{k}"
    kind = op[0]
    if kind in ("post", "post_with_fee", "hold"):
        _, source, target, cents = op
        if kind == "post_with_fee":
            lines = [(codes[source], "D", cents + 7), (codes[target], "C", cents), (FEE, "C", 7)]
        else:
            lines = [(codes[source], "D", cents), (codes[target], "C", cents)]
        if kind == "hold":
            await ledger.hold(session, lines, reference=reference, reason="PROP", timeout_seconds=600)
        else:
            await ledger.post(session, lines, reference=reference, reason="PROP")
    elif kind == "post_hold":
        _, target, percent = op
        held = await ledger.get_transaction(session, f"{run}-{target}")
        if held is None:
            raise TransactionNotFound()
        cents = None if percent is None else max(1, held.amount_cents * percent // 100)
        await ledger.post_hold(session, f"{run}-{target}", amount_cents=cents, reference=reference)
    elif kind == "void":
        await ledger.void_hold(session, f"{run}-{op[1]}")
    else:
        original = await ledger.get_transaction(session, f"{run}-{op[1]}")
        if original is None:
            raise TransactionNotFound()
        await ledger.reverse(session, original.id, reference=reference, reason="PROP_REVERSAL")


async def _run(database_url: str, funding: list[int], ops: list[tuple]) -> None:
    db = Database(database_url, pool_size=WORKERS + 1, max_overflow=0)
    run = uuid.uuid4().hex[:12]
    codes = [f"2101.{run}.{i}" for i in range(CUSTOMERS)]
    try:
        async with db.unit_of_work() as session:
            fee_before = (await ledger.balance(session, FEE)).posted
            for code, cents in zip(codes, funding, strict=True):
                await ledger.open_account(
                    session, code=code, name=code, type="LIABILITY", debits_must_not_exceed_credits=True
                )
                if cents:
                    await ledger.post(
                        session,
                        [("3100", "D", cents), (code, "C", cents)],
                        reference=f"fund:{code}",
                        reason="funding",
                    )

        async def worker(w: int) -> None:
            for k in range(w, len(ops), WORKERS):
                try:
                    async with db.unit_of_work() as session:
                        await _apply(session, run, k, ops[k], codes)
                except EXPECTED_REFUSALS:
                    pass
                except AppError as error:  # any other refusal is a bug
                    raise AssertionError(f"op {k} {ops[k]} refused with {error.error}") from error

        await asyncio.wait_for(asyncio.gather(*(worker(w) for w in range(WORKERS))), timeout=120)

        async with db.sessionmaker() as session:
            report = await ledger.verify(session)
            assert report.ok, report.problems
            balances = [await ledger.balance(session, code) for code in codes]
            fee_after = (await ledger.balance(session, FEE)).posted
        for balance in balances:
            assert balance.posted >= 0 and balance.available >= 0, balance
        assert sum(b.posted for b in balances) + (fee_after - fee_before) == sum(funding)
    finally:
        await db.dispose()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(funding=st.lists(st.integers(0, 8_000), min_size=CUSTOMERS, max_size=CUSTOMERS), ops=operations)
def test_random_concurrent_operations_keep_the_ledger_sound(database_url, funding, ops):
    asyncio.run(_run(database_url, funding, ops))
