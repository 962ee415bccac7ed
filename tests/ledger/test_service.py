"""Posting, idempotent references, holds, reversals, balances and statements through the service API."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from laura.core.models import utcnow
from laura.ledger import service as ledger
from laura.ledger.errors import (
    AccountConflict,
    AccountNotFound,
    AlreadyReversed,
    HoldNotPending,
    InsufficientFunds,
    InvalidLines,
    ReferenceConflict,
    TransactionNotFound,
    UnbalancedTransaction,
)
from tests.ledger.conftest import balance_of, customer


async def test_chart_of_accounts_is_created_by_the_migration(db):
    async with db.sessionmaker() as session:
        accounts = {row.account.code: row.account for row in (await ledger.trial_balance(session)).rows}
    expected = {
        "1100": ("BANCO_CORRENTE", "ASSET"),
        "1200": ("PIX_LIQUIDACAO_PSP", "ASSET"),
        "1210": ("TED_LIQUIDACAO", "ASSET"),
        "1220": ("BOLETO_LIQUIDACAO", "ASSET"),
        "1300": ("PIX_A_RECEBER", "ASSET"),
        "2100": ("MOTORISTAS_A_PAGAR", "LIABILITY"),
        "2101": ("DEPOSITOS_CLIENTES", "LIABILITY"),
        "3100": ("CAPITAL_SOCIAL", "EQUITY"),
        "4100": ("RECEITA_CORRIDAS", "INCOME"),
        "4200": ("COMISSAO_PLATAFORMA", "INCOME"),
        "4300": ("TARIFAS_BANCARIAS", "INCOME"),
    }
    for code, (name, kind) in expected.items():
        assert (accounts[code].name, accounts[code].type.value) == (name, kind)
    assert accounts["4200"].hot and not accounts["2101"].hot


async def test_a_posting_moves_balances_on_each_accounts_normal_side(db):
    alice = await customer(db, 10_000)
    async with db.unit_of_work() as session:
        tx = await ledger.post(
            session,
            [
                ledger.Line.debit(alice, 1_000),
                ledger.Line.credit("1200", 990),
                ledger.Line.credit("4300", 10),
            ],
            reference="pix-out-1",
            reason="PIX_OUT",
            description="Pix enviado",
            entity_type="transfer",
            entity_id="t-1",
            external_ref="E123",
            metadata={"channel": "app"},
        )
    assert (tx.kind, tx.amount_cents, tx.replayed, tx.metadata) == (
        "posting",
        1_000,
        False,
        {"channel": "app"},
    )
    assert await balance_of(db, alice) == ledger.Balance(posted=9_000, pending=0, available=9_000)
    assert (await balance_of(db, "1200")).posted == -990  # an asset credited: money left the PSP account
    assert (await balance_of(db, "4300")).posted == 10
    async with db.sessionmaker() as session:
        assert (await ledger.verify(session)).ok


async def test_lines_accept_tuples_words_and_account_ids(db):
    alice = await customer(db, 500)
    async with db.unit_of_work() as session:
        account = await ledger.get_account(session, alice)
        await ledger.post(
            session, [(account.id, "debit", 200), ("4300", "credit", 200)], reference="r", reason="FEE"
        )
    assert (await balance_of(db, alice)).posted == 300


async def test_replaying_a_reference_returns_the_first_transaction(db):
    alice, bob = await customer(db, 1_000), await customer(db)
    lines = [(alice, "D", 300), (bob, "C", 300)]
    async with db.unit_of_work() as session:
        first = await ledger.post(session, lines, reference="p2p-1", reason="P2P")
    async with db.unit_of_work() as session:
        again = await ledger.post(session, list(reversed(lines)), reference="p2p-1", reason="P2P")
    assert again.id == first.id and again.replayed and not first.replayed
    assert (await balance_of(db, alice)).posted == 700 and (await balance_of(db, bob)).posted == 300


async def test_the_same_reference_with_other_lines_is_refused(db):
    alice, bob = await customer(db, 1_000), await customer(db)
    async with db.unit_of_work() as session:
        await ledger.post(session, [(alice, "D", 300), (bob, "C", 300)], reference="p2p-2", reason="P2P")
    with pytest.raises(ReferenceConflict) as refused:
        async with db.unit_of_work() as session:
            await ledger.post(session, [(alice, "D", 301), (bob, "C", 301)], reference="p2p-2", reason="P2P")
    assert refused.value.status == 409 and refused.value.details == {"reference": "p2p-2"}
    with pytest.raises(ReferenceConflict):
        async with db.unit_of_work() as session:
            await ledger.hold(session, [(alice, "D", 300), (bob, "C", 300)], reference="p2p-2", reason="P2P")
    assert (await balance_of(db, alice)).posted == 700


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ([("3100", "D", 100), ("4300", "C", 99)], UnbalancedTransaction),
        ([("3100", "D", 100)], InvalidLines),
        ([("3100", "D", 0), ("4300", "C", 0)], InvalidLines),
        ([("3100", "X", 100), ("4300", "C", 100)], InvalidLines),
        ([("3100", "D", 1.5), ("4300", "C", 1.5)], InvalidLines),
    ],
)
async def test_malformed_lines_are_refused_before_the_database(db, lines, error):
    with pytest.raises(error):
        async with db.unit_of_work() as session:
            await ledger.post(session, lines, reference="bad", reason="X")


async def test_the_database_function_refuses_unbalanced_lines_on_its_own(db):
    async with db.engine.connect() as conn:
        with pytest.raises(Exception, match="debits \\(100\\) and credits \\(99\\) differ"):
            await conn.execute(
                text(
                    "SELECT ledger_post(gen_random_uuid(), 'raw', 'X', NULL, NULL, NULL, NULL, NULL,"
                    " '{NULL,NULL}'::uuid[], '{3100,4300}'::text[], '{D,C}'::text[], '{100,99}'::bigint[])"
                )
            )


async def test_unknown_accounts_are_named(db):
    with pytest.raises(AccountNotFound) as refused:
        async with db.unit_of_work() as session:
            await ledger.post(session, [("3100", "D", 5), ("9999.nope", "C", 5)], reference="x", reason="X")
    assert refused.value.status == 404 and refused.value.details == {"account": "9999.nope"}
    missing = uuid.uuid4()
    with pytest.raises(AccountNotFound):
        async with db.unit_of_work() as session:
            await ledger.post(session, [("3100", "D", 5), (missing, "C", 5)], reference="y", reason="X")


async def test_an_account_cannot_be_overdrawn(db):
    alice, bob = await customer(db, 1_000), await customer(db)
    with pytest.raises(InsufficientFunds) as refused:
        async with db.unit_of_work() as session:
            await ledger.post(
                session, [(alice, "D", 1_001), (bob, "C", 1_001)], reference="over", reason="P2P"
            )
    assert (refused.value.status, refused.value.error, refused.value.code) == (
        402,
        "INSUFFICIENT_BALANCE",
        "LED_001",
    )
    assert refused.value.details == {"account": alice}
    assert (await balance_of(db, alice)).posted == 1_000
    async with db.sessionmaker() as session:
        assert await ledger.get_transaction(session, "over") is None


async def test_open_account_is_idempotent_on_code_and_refuses_other_attributes(db):
    owner = uuid.uuid4()
    async with db.unit_of_work() as session:
        first = await ledger.open_account(
            session,
            code=f"2100.{owner}",
            name="Motorista",
            type="LIABILITY",
            owner_id=owner,
            debits_must_not_exceed_credits=True,
        )
        again = await ledger.open_account(
            session,
            code=f"2100.{owner}",
            name="Motorista",
            type=ledger.AccountType.LIABILITY,
            owner_id=owner,
            debits_must_not_exceed_credits=True,
        )
    assert again.id == first.id and first.owner_id == owner
    with pytest.raises(AccountConflict):
        async with db.unit_of_work() as session:
            await ledger.open_account(
                session, code=f"2100.{owner}", name="Motorista", type="ASSET", owner_id=owner
            )


async def test_a_hold_counts_against_available_until_posted_in_part(db):
    alice, merchant = await customer(db, 1_000), await customer(db)
    async with db.unit_of_work() as session:
        held = await ledger.hold(
            session,
            [(alice, "D", 600), (merchant, "C", 600)],
            reference="card-auth-1",
            reason="CARD",
            timeout_seconds=3600,
        )
    assert held.kind == "hold"
    assert await balance_of(db, alice) == ledger.Balance(posted=1_000, pending=-600, available=400)
    assert await balance_of(db, merchant) == ledger.Balance(posted=0, pending=600, available=0)
    with pytest.raises(InsufficientFunds):
        async with db.unit_of_work() as session:
            await ledger.post(session, [(alice, "D", 401), ("4300", "C", 401)], reference="fee", reason="FEE")
    async with db.unit_of_work() as session:
        posted = await ledger.post_hold(session, "card-auth-1", amount_cents=450, reference="card-capture-1")
        replay = await ledger.post_hold(session, held.id, amount_cents=450, reference="card-capture-1")
    assert (posted.kind, posted.amount_cents, posted.hold_id) == ("hold_post", 450, held.id)
    assert replay.id == posted.id and replay.replayed
    assert await balance_of(db, alice) == ledger.Balance(posted=550, pending=0, available=550)
    assert await balance_of(db, merchant) == ledger.Balance(posted=450, pending=0, available=450)
    with pytest.raises(HoldNotPending):
        async with db.unit_of_work() as session:
            await ledger.void_hold(session, held.id)
    with pytest.raises(HoldNotPending):
        async with db.unit_of_work() as session:
            await ledger.post_hold(session, held.id, reference="card-capture-2")
    async with db.sessionmaker() as session:
        assert (await ledger.verify(session)).ok


async def test_a_voided_hold_releases_the_money_and_voiding_again_changes_nothing(db):
    alice, bob = await customer(db, 1_000), await customer(db)
    async with db.unit_of_work() as session:
        held = await ledger.hold(session, [(alice, "D", 700), (bob, "C", 700)], reference="h", reason="TED")
    async with db.unit_of_work() as session:
        voided = await ledger.void_hold(session, "h")
        again = await ledger.void_hold(session, held.id)
    assert voided.status == "voided" and again.status == "voided" and voided.resolved_at is not None
    assert await balance_of(db, alice) == ledger.Balance(posted=1_000, pending=0, available=1_000)
    with pytest.raises(HoldNotPending):
        async with db.unit_of_work() as session:
            await ledger.post_hold(session, held.id, reference="h-post")
    with pytest.raises(TransactionNotFound):
        async with db.unit_of_work() as session:
            await ledger.void_hold(session, uuid.uuid4())


async def test_partial_post_of_a_multi_line_hold_is_refused(db):
    alice, bob = await customer(db, 1_000), await customer(db)
    async with db.unit_of_work() as session:
        await ledger.hold(
            session, [(alice, "D", 100), (bob, "C", 90), ("4300", "C", 10)], reference="h3", reason="PIX"
        )
    with pytest.raises(InvalidLines):
        async with db.unit_of_work() as session:
            await ledger.post_hold(session, "h3", amount_cents=50, reference="h3-post")
    async with db.unit_of_work() as session:
        await ledger.post_hold(session, "h3", reference="h3-post")
    assert (await balance_of(db, bob)).posted == 90


async def test_expired_holds_are_released_by_the_sweep(db):
    alice, bob = await customer(db, 1_000), await customer(db)
    async with db.unit_of_work() as session:
        await ledger.hold(
            session, [(alice, "D", 300), (bob, "C", 300)], reference="e1", reason="X", timeout_seconds=1
        )
        await ledger.hold(
            session, [(alice, "D", 200), (bob, "C", 200)], reference="e2", reason="X", timeout_seconds=600
        )
    async with db.unit_of_work() as session:
        assert (
            await ledger.expire_holds(session, now=utcnow() + timedelta(seconds=5)) == 0
        )  # not due in DB time
    async with db.engine.begin() as conn:
        await conn.execute(text("SELECT pg_sleep(1.1)"))
    async with db.unit_of_work() as session:
        assert await ledger.expire_holds(session) == 1
    with pytest.raises(HoldNotPending):
        async with db.unit_of_work() as session:
            await ledger.post_hold(session, "e1", reference="e1-post")
    assert (await balance_of(db, alice)).available == 800


async def test_a_reversal_is_a_new_mirrored_transaction_and_happens_once(db):
    alice, bob = await customer(db, 1_000), await customer(db)
    async with db.unit_of_work() as session:
        original = await ledger.post(
            session,
            [(alice, "D", 400), (bob, "C", 390), ("4300", "C", 10)],
            reference="pay",
            reason="P2P",
            entity_type="transfer",
            entity_id="t-9",
        )
    async with db.unit_of_work() as session:
        reversal = await ledger.reverse(session, original.id, reference="pay:reversal", reason="REFUND")
        replay = await ledger.reverse(session, original.id, reference="pay:reversal", reason="REFUND")
    assert (reversal.kind, reversal.reverses_id, reversal.amount_cents) == ("reversal", original.id, 400)
    assert (reversal.entity_type, reversal.entity_id) == ("transfer", "t-9")
    assert replay.id == reversal.id and replay.replayed
    assert (await balance_of(db, alice)).posted == 1_000 and (await balance_of(db, bob)).posted == 0
    with pytest.raises(AlreadyReversed):
        async with db.unit_of_work() as session:
            await ledger.reverse(session, original.id, reference="pay:reversal-2", reason="REFUND")
    with pytest.raises(InvalidLines):
        async with db.unit_of_work() as session:
            await ledger.reverse(session, reversal.id, reference="pay:reversal-of-reversal", reason="X")
    with pytest.raises(TransactionNotFound):
        async with db.unit_of_work() as session:
            await ledger.reverse(session, uuid.uuid4(), reference="nothing", reason="X")
    async with db.engine.connect() as conn:
        stored = (
            await conn.execute(
                text("SELECT count(*) FROM ledger_entries WHERE transaction_id = :id"), {"id": original.id}
            )
        ).scalar()
    assert stored == 3


async def test_a_reversal_that_would_overdraw_is_refused(db):
    alice, bob = await customer(db, 1_000), await customer(db)
    async with db.unit_of_work() as session:
        paid = await ledger.post(
            session, [(alice, "D", 1_000), (bob, "C", 1_000)], reference="all", reason="P2P"
        )
        await ledger.post(session, [(bob, "D", 1_000), ("4300", "C", 1_000)], reference="spent", reason="FEE")
    with pytest.raises(InsufficientFunds):
        async with db.unit_of_work() as session:
            await ledger.reverse(session, paid.id, reference="all:reversal", reason="REFUND")


async def test_balance_as_of_is_recomputed_from_entries(db):
    alice, bob = await customer(db, 1_000), await customer(db)
    async with db.engine.connect() as conn:
        before_hold = (await conn.execute(text("SELECT clock_timestamp()"))).scalar()
    async with db.unit_of_work() as session:
        await ledger.hold(session, [(alice, "D", 300), (bob, "C", 300)], reference="h", reason="X")
    async with db.engine.connect() as conn:
        during_hold = (await conn.execute(text("SELECT clock_timestamp()"))).scalar()
    async with db.unit_of_work() as session:
        await ledger.post_hold(session, "h", amount_cents=200, reference="h-post")
    async with db.sessionmaker() as session:
        assert await ledger.balance(session, alice, as_of=before_hold) == ledger.Balance(1_000, 0, 1_000)
        assert await ledger.balance(session, alice, as_of=during_hold) == ledger.Balance(1_000, -300, 700)
        now = await ledger.balance(session, alice, as_of=utcnow() + timedelta(minutes=1))
        assert now == await ledger.balance(session, alice) == ledger.Balance(800, 0, 800)


async def test_statement_pages_newest_first_with_running_balances(db):
    alice, bob = await customer(db, 1_000), await customer(db)
    async with db.unit_of_work() as session:
        for i in range(5):
            await ledger.post(session, [(alice, "D", 100), (bob, "C", 100)], reference=f"s{i}", reason="P2P")
        await ledger.hold(session, [(alice, "D", 50), (bob, "C", 50)], reference="s-hold", reason="P2P")
    rows = []
    cursor = None
    async with db.sessionmaker() as session:
        while True:
            page = await ledger.entries(session, alice, cursor=cursor, limit=2)
            rows += page.rows
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    assert [r.reference for r in rows] == ["s-hold", "s4", "s3", "s2", "s1", "s0", f"fund:{alice}"]
    assert [r.balance_cents for r in rows] == [500, 500, 600, 700, 800, 900, 1_000]
    assert rows[0].pending and rows[0].hold_status == "pending" and rows[1].direction == "D"
    assert len({r.entry_id for r in rows}) == 7


async def test_hot_accounts_spread_their_balance_and_compute_statement_balances(db):
    async with db.unit_of_work() as session:
        fee = await ledger.open_account(session, code="4200.test", name="Comissao", type="INCOME", hot=True)
        for i in range(3):
            await ledger.post(
                session,
                [
                    ("1300", "D", 1_000),
                    ("4200.test", "C", 100 * (i + 1)),
                    ("4100", "C", 1_000 - 100 * (i + 1)),
                ],
                reference=f"ride{i}",
                reason="RIDE",
            )
    assert fee.hot
    assert await balance_of(db, "4200.test") == ledger.Balance(600, 0, 600)
    async with db.sessionmaker() as session:
        page = await ledger.entries(session, "4200.test")
    assert [r.balance_cents for r in page.rows] == [600, 300, 100]
    with pytest.raises(Exception, match="a hot ledger account cannot have a balance limit"):
        async with db.unit_of_work() as session:
            await ledger.open_account(
                session,
                code="2101.hot",
                name="x",
                type="LIABILITY",
                hot=True,
                debits_must_not_exceed_credits=True,
            )


async def test_a_line_can_touch_one_account_twice(db):
    alice = await customer(db, 1_000)
    async with db.unit_of_work() as session:
        await ledger.post(
            session, [(alice, "C", 100), (alice, "C", 50), ("3100", "D", 150)], reference="twice", reason="X"
        )
    async with db.sessionmaker() as session:
        page = await ledger.entries(session, alice, limit=2)
    assert [r.balance_cents for r in page.rows] == [1_150, 1_100]


async def test_the_periodic_job_releases_a_hold_past_its_timeout(db):
    from laura.core.jobs import JobRuntime, bind_runtime
    from laura.ledger.tasks import expire_holds

    alice, bob = await customer(db, 1_000), await customer(db)
    async with db.unit_of_work() as session:
        await ledger.hold(
            session, [(alice, "D", 300), (bob, "C", 300)], reference="j1", reason="X", timeout_seconds=1
        )
    assert (await balance_of(db, alice)).available == 700
    async with db.engine.begin() as conn:
        await conn.execute(text("SELECT pg_sleep(1.1)"))
    with bind_runtime(JobRuntime(db=db)):
        assert await expire_holds(timestamp=0) == 1
    assert (await balance_of(db, alice)).available == 1_000
