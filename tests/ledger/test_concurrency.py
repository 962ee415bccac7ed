"""Real concurrent sessions: no deadlock, no lost update, no overdraft."""

from __future__ import annotations

import asyncio
import random

import pytest

from laura.ledger import service as ledger
from laura.ledger.errors import HoldNotPending, InsufficientFunds
from tests.ledger.conftest import balance_of, customer

FUNDING = 1_000_000


@pytest.mark.parametrize("hot", [False, True], ids=["row-locked", "hot-sharded"])
async def test_32_tasks_moving_money_among_10_accounts_conserve_it(db, hot):
    codes = [f"2101.hot{hot}.{i}" for i in range(10)]
    async with db.unit_of_work() as session:
        for code in codes:
            await ledger.open_account(session, code=code, name=code, type="LIABILITY", hot=hot)
        await ledger.post(
            session,
            [("3100", "D", FUNDING * len(codes))] + [(code, "C", FUNDING) for code in codes],
            reference=f"fund-{hot}",
            reason="funding",
        )
    moved: list[tuple[str, str, int]] = []

    async def task(n: int) -> None:
        rng = random.Random(n)
        for i in range(15):
            picked = rng.sample(codes, rng.choice([2, 3]))
            amount = rng.randint(1, 1_000)
            lines = [(picked[0], "D", amount * (len(picked) - 1))] + [(c, "C", amount) for c in picked[1:]]
            rng.shuffle(lines)
            async with db.unit_of_work() as session:
                await ledger.post(session, lines, reference=f"move-{hot}-{n}-{i}", reason="MOVE")
            moved.append((picked[0], "out", amount * (len(picked) - 1)))
            moved.extend((c, "in", amount) for c in picked[1:])

    await asyncio.wait_for(asyncio.gather(*(task(n) for n in range(32))), timeout=120)

    expected = {code: FUNDING for code in codes}
    for code, way, amount in moved:
        expected[code] += amount if way == "in" else -amount
    for code in codes:
        assert (await balance_of(db, code)).posted == expected[code]
    assert sum(expected.values()) == FUNDING * len(codes)
    async with db.sessionmaker() as session:
        report = await ledger.verify(session)
        assert report.ok, report.problems
        assert report.transactions == 1 + 32 * 15


async def test_an_account_funded_for_n_transfers_pays_exactly_n_of_3n(db):
    n, price = 10, 1_234
    payer = await customer(db, n * price)
    payees = [await customer(db) for _ in range(3)]

    async def attempt(i: int) -> bool:
        try:
            async with db.unit_of_work() as session:
                await ledger.post(
                    session,
                    [(payer, "D", price), (payees[i % 3], "C", price)],
                    reference=f"pay-{i}",
                    reason="P2P",
                )
        except InsufficientFunds:
            return False
        return True

    results = await asyncio.gather(*(attempt(i) for i in range(3 * n)))
    assert sum(results) == n
    assert await balance_of(db, payer) == ledger.Balance(0, 0, 0)
    assert sum([(await balance_of(db, p)).posted for p in payees]) == n * price
    async with db.sessionmaker() as session:
        assert (await ledger.verify(session)).ok


async def test_concurrent_holds_never_reserve_more_than_the_balance(db):
    payer, payee = await customer(db, 5_000), await customer(db)

    async def attempt(i: int) -> bool:
        try:
            async with db.unit_of_work() as session:
                await ledger.hold(
                    session, [(payer, "D", 1_000), (payee, "C", 1_000)], reference=f"h{i}", reason="X"
                )
        except InsufficientFunds:
            return False
        return True

    assert sum(await asyncio.gather(*(attempt(i) for i in range(15)))) == 5
    assert await balance_of(db, payer) == ledger.Balance(5_000, -5_000, 0)


async def test_the_same_reference_posted_concurrently_moves_money_once(db):
    payer, payee = await customer(db, 10_000), await customer(db)

    async def attempt() -> ledger.Transaction:
        async with db.unit_of_work() as session:
            return await ledger.post(
                session, [(payer, "D", 700), (payee, "C", 700)], reference="once", reason="X"
            )

    results = await asyncio.gather(*(attempt() for _ in range(12)))
    assert len({tx.id for tx in results}) == 1 and sum(not tx.replayed for tx in results) == 1
    assert (await balance_of(db, payer)).posted == 9_300


async def test_concurrent_post_and_void_of_one_hold_resolve_it_once(db):
    payer, payee = await customer(db, 1_000), await customer(db)
    async with db.unit_of_work() as session:
        held = await ledger.hold(session, [(payer, "D", 600), (payee, "C", 600)], reference="h", reason="X")

    async def post_it(i: int) -> str:
        try:
            async with db.unit_of_work() as session:
                await ledger.post_hold(session, held.id, reference=f"h-post-{i}")
        except HoldNotPending:
            return "refused"
        return "posted"

    async def void_it() -> str:
        try:
            async with db.unit_of_work() as session:
                await ledger.void_hold(session, held.id)
        except HoldNotPending:
            return "refused"
        return "voided"

    outcomes = await asyncio.gather(*(post_it(i) for i in range(4)), *(void_it() for _ in range(4)))
    assert outcomes.count("posted") in (0, 1)
    assert outcomes.count("posted") == 1 or outcomes.count("refused") == 4
    posted = (await balance_of(db, payee)).posted
    assert posted == (600 if "posted" in outcomes else 0)
    assert (await balance_of(db, payer)) == ledger.Balance(1_000 - posted, 0, 1_000 - posted)
    async with db.sessionmaker() as session:
        assert (await ledger.verify(session)).ok
