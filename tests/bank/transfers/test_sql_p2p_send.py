"""`bank_p2p_send` (laura/bank/transfers/sql/p2p_send.sql) called directly with SQL: each outcome, what it
writes (everything or nothing), and its limit rule held to Python's (`service.over_limit`)."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import pytest

from laura.bank.accounts.service import ledger_code
from laura.bank.transfers import service
from laura.bank.transfers.outcomes import P2PSendOutcome
from laura.bank.transfers.service import Limits, over_limit, start_of_day
from laura.core.errors import AppError
from laura.core.money import to_cents
from laura.ledger.outcomes import LedgerSqlState
from tests.bank.support import funded_customer
from tests.helpers import auth_headers
from tests.sql_support import call, rows, scalar, session_of

MAX_CENTS, DAILY_CENTS = 50_00, 80_00
COUNTED = ["SCHEDULED", "PENDING", "COMPLETED"]


async def _args(db, sender: dict, recipient_id: str, cents: int, **overrides) -> dict:
    """Every argument of `bank_p2p_send` for `sender` paying `cents` to `recipient_id`, without a key."""
    now = datetime.now(UTC)
    transfer_id = uuid.uuid4()
    new = f'{{"amountCents": {cents}, "status": "COMPLETED", "type": "P2P"}}'
    audit = {
        "chain": 0,
        "occurred_at": now,
        "actor_id": uuid.UUID(sender["id"]),
        "action": "TRANSFER_COMPLETED",
        "resource_type": "transfer",
        "resource_id": str(transfer_id),
        "old": None,
        "new": new,
        "ip": None,
        "user_agent": None,
        "request_id": "req-1",
    }
    canonical = await scalar(
        db,
        "SELECT audit_canonical($1::smallint, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11)",
        *audit.values(),
    )
    args = {
        "session": await session_of(db, sender["id"]),
        "sender": uuid.UUID(sender["id"]),
        "transfer_id": transfer_id,
        "recipient": uuid.UUID(recipient_id),
        "cents": cents,
        "description": "rent",
        "now": now,
        "ledger_tx_id": uuid.uuid4(),
        "ledger_reference": f"transfer:{transfer_id}",
        "ledger_reason": "P2P_TRANSFER",
        "ledger_description": "rent",
        "sender_code": ledger_code(sender["id"]),
        "recipient_code": ledger_code(recipient_id),
        "day_start": start_of_day(now),
        "counted": COUNTED,
        "max_cents": MAX_CENTS,
        "daily_cents": DAILY_CENTS,
        "idem_owner": None,
        "idem_key": None,
        "idem_hash": None,
        "idem_status": None,
        "idem_body": None,
        "idem_expires": None,
        "audit_chain": audit["chain"],
        "audit_occurred_at": now,
        "audit_actor": audit["actor_id"],
        "audit_action": audit["action"],
        "audit_resource_type": audit["resource_type"],
        "audit_resource_id": audit["resource_id"],
        "audit_old": None,
        "audit_new": new,
        "audit_ip": None,
        "audit_user_agent": None,
        "audit_request_id": audit["request_id"],
        "audit_canonical": canonical,
        "event_types": ["transfer.completed", "transfer.received"],
        "event_data": ['{"n": 1}', '{"n": 2}'],
        "event_users": [uuid.UUID(sender["id"]), uuid.UUID(recipient_id)],
    }
    return {**args, **overrides}


async def _send(db, sender: dict, recipient_id: str, cents: int, **overrides) -> asyncpg.Record:
    return await call(db, "bank_p2p_send", **await _args(db, sender, recipient_id, cents, **overrides))


async def _written(db) -> tuple:
    """How many transfers, audit rows and events exist, and the ledger's posted total."""
    return (
        await scalar(db, "SELECT count(*) FROM transfers"),
        await scalar(db, "SELECT count(*) FROM audit_logs"),
        await scalar(db, "SELECT count(*) FROM outbox"),
        await scalar(db, "SELECT count(*) FROM ledger_transactions"),
    )


@pytest.fixture
async def pair(app, client) -> tuple[dict, dict]:
    """Ana with R$ 100.00 and Bia with nothing, both customers of the bank."""
    ana, _ = await funded_customer(app, client, "100.00")
    bia, _ = await funded_customer(app, client)
    return ana, bia


async def test_completed_writes_the_transfer_posting_events_audit_row_and_answer(app, pair) -> None:
    db = app.state.db
    ana, bia = pair
    before = await _written(db)
    key = {
        "idem_owner": f"user:{ana['id']}",
        "idem_key": "k-1",
        "idem_hash": "h",
        "idem_status": 201,
        "idem_body": '{"ok": true}',
        "idem_expires": datetime(2100, 1, 1, tzinfo=UTC),
    }

    row = await _send(db, ana, bia["id"], 30_00, **key)

    assert (row["outcome"], row["sent"]) == (P2PSendOutcome.COMPLETED, 0)
    assert await _written(db) == tuple(n + d for n, d in zip(before, (1, 1, 2, 1), strict=True))
    assert await rows(db, "SELECT type, status, amount_cents, recipient_user_id::text FROM transfers") == [
        ("P2P", "COMPLETED", 30_00, bia["id"])
    ]
    balances = await rows(
        db,
        "SELECT a.code, b.credits_posted - b.debits_posted FROM ledger_accounts a"
        " JOIN ledger_account_balances b ON b.account_id = a.id WHERE a.code = ANY($1) ORDER BY a.code = $2",
        [ledger_code(ana["id"]), ledger_code(bia["id"])],
        ledger_code(bia["id"]),
    )
    assert balances == [(ledger_code(ana["id"]), 70_00), (ledger_code(bia["id"]), 30_00)]
    assert await rows(
        db, "SELECT response_status, response_body::text FROM idempotency_keys WHERE key = 'k-1'"
    ) == [(201, '{"ok": true}')]

    again = await _send(db, ana, bia["id"], 30_00, **key)
    assert (again["outcome"], again["stored_status"], again["stored_body"]) == (
        P2PSendOutcome.ANSWERED,
        201,
        {"ok": True},
    )
    assert await scalar(db, "SELECT count(*) FROM transfers") == 1


async def test_a_key_held_by_another_transaction_is_in_progress(app, pair, database_url) -> None:
    db = app.state.db
    ana, bia = pair
    owner, key = f"user:{ana['id']}", "k-busy"
    holder = await asyncpg.connect(database_url)
    try:
        async with holder.transaction():
            claimed = await holder.fetchval("SELECT got FROM idempotency_claim($1, $2, now())", owner, key)
            assert claimed
            row = await _send(
                db,
                ana,
                bia["id"],
                10_00,
                idem_owner=owner,
                idem_key=key,
                idem_hash="h",
                idem_status=201,
                idem_body="{}",
                idem_expires=datetime(2100, 1, 1, tzinfo=UTC),
            )
    finally:
        await holder.close()
    assert row["outcome"] == P2PSendOutcome.IN_PROGRESS
    assert await scalar(db, "SELECT count(*) FROM transfers") == 0


@pytest.mark.parametrize(
    ("setup", "whose", "outcome"),
    [
        ("UPDATE auth_sessions SET revoked_at = now() WHERE user_id = $1", 0, P2PSendOutcome.SESSION_ENDED),
        ("UPDATE users SET is_active = false WHERE id = $1", 0, P2PSendOutcome.SESSION_ENDED),
        (
            "UPDATE bank_accounts SET status = 'BLOCKED' WHERE user_id = $1",
            0,
            P2PSendOutcome.ACCOUNT_NOT_ACTIVE,
        ),
        ("UPDATE bank_accounts SET status = 'BLOCKED' WHERE user_id = $1", 1, P2PSendOutcome.NO_RECIPIENT),
    ],
)
async def test_a_refusal_writes_nothing(app, pair, setup: str, whose: int, outcome: P2PSendOutcome) -> None:
    db = app.state.db
    ana, bia = pair
    await scalar(
        db, f"WITH done AS ({setup} RETURNING 1) SELECT count(*) FROM done", uuid.UUID(pair[whose]["id"])
    )
    before = await _written(db)

    row = await _send(db, ana, bia["id"], 10_00)

    assert row["outcome"] == outcome
    assert await _written(db) == before


async def test_a_sender_without_an_account_or_a_recipient_unknown(app, client, pair) -> None:
    db = app.state.db
    ana, bia = pair
    rider, _ = await auth_headers(client, user_type="passenger")
    before = await _written(db)

    assert (await _send(db, rider, bia["id"], 10_00))["outcome"] == P2PSendOutcome.NO_ACCOUNT
    assert (await _send(db, ana, str(uuid.uuid4()), 10_00))["outcome"] == P2PSendOutcome.NO_RECIPIENT
    assert await _written(db) == before


async def test_the_limits_each_say_which_one_broke_and_what_was_sent_today(app, pair) -> None:
    db = app.state.db
    ana, bia = pair
    assert (await _send(db, ana, bia["id"], MAX_CENTS + 1))["outcome"] == P2PSendOutcome.OVER_TRANSFER_LIMIT
    assert (await _send(db, ana, bia["id"], MAX_CENTS))["outcome"] == P2PSendOutcome.COMPLETED
    before = await _written(db)

    over = await _send(db, ana, bia["id"], DAILY_CENTS - MAX_CENTS + 1)

    assert (over["outcome"], over["sent"]) == (P2PSendOutcome.OVER_DAILY_LIMIT, MAX_CENTS)
    assert await _written(db) == before
    assert (await _send(db, ana, bia["id"], DAILY_CENTS - MAX_CENTS))["outcome"] == P2PSendOutcome.COMPLETED


async def test_insufficient_funds_is_the_ledgers_error_and_rolls_everything_back(app, pair) -> None:
    db = app.state.db
    ana, bia = pair
    await _send(db, ana, bia["id"], 40_00)
    before = await _written(db)

    with pytest.raises(asyncpg.PostgresError) as raised:
        await _send(db, bia, ana["id"], 40_01)

    assert raised.value.sqlstate == LedgerSqlState.INSUFFICIENT_FUNDS
    assert await _written(db) == before


async def test_concurrent_sends_of_one_sender_never_pass_the_daily_limit(app, pair) -> None:
    """The sender's lock is taken before the day's sum is read: ten concurrent R$ 20.00 sends against an
    R$ 80.00 day complete four times."""
    db = app.state.db
    ana, bia = pair
    answers = await asyncio.gather(*(_send(db, ana, bia["id"], 20_00) for _ in range(10)))
    outcomes = sorted(row["outcome"] for row in answers)
    assert outcomes == [P2PSendOutcome.COMPLETED] * 4 + [P2PSendOutcome.OVER_DAILY_LIMIT] * 6


async def test_the_limit_rule_is_the_same_in_sql_and_python(app) -> None:
    """`bank_transfer_over_limit` and `service.over_limit` give the same verdict around every boundary."""
    limits = [
        Limits(per_transfer=Decimal(p), daily=Decimal(d)) for p, d in (("1.00", "3.00"), ("5.00", "5.00"))
    ]
    amounts = [1, 99, 100, 101, 299, 300, 301, 499, 500, 501]
    sent = [0, 1, 199, 200, 201, 299, 300, 400, 500, 501]
    cases = list(itertools.product(limits, amounts, sent))
    verdicts = await rows(
        app.state.db,
        "SELECT bank_transfer_over_limit(c, s, m, d) FROM unnest($1::bigint[], $2::bigint[], $3::bigint[],"
        " $4::bigint[]) WITH ORDINALITY AS t(c, s, m, d, n) ORDER BY n",
        [c for _, c, _ in cases],
        [s for _, _, s in cases],
        [to_cents(lim.per_transfer) for lim, _, _ in cases],
        [to_cents(lim.daily) for lim, _, _ in cases],
    )
    expected = [over_limit(c, s, lim) for lim, c, s in cases]
    assert [v for (v,) in verdicts] == expected
    assert {*expected} == {None, P2PSendOutcome.OVER_TRANSFER_LIMIT, P2PSendOutcome.OVER_DAILY_LIMIT}


@pytest.mark.parametrize(
    "outcome", [o for o in P2PSendOutcome if o not in ("IN_PROGRESS", "ANSWERED", "COMPLETED")]
)
def test_every_refusal_outcome_is_answered_from_the_outcome_alone(outcome: P2PSendOutcome) -> None:
    """A limit refusal gets its 422 even when Python, given the same numbers, would not have refused: the
    statement's verdict stands (it used to be judged again, and a disagreement was a KeyError, a 500)."""
    error = service._refusal(outcome, 0, Limits(per_transfer=Decimal("1000.00"), daily=Decimal("5000.00")))
    assert isinstance(error, AppError)
    if outcome in (P2PSendOutcome.OVER_TRANSFER_LIMIT, P2PSendOutcome.OVER_DAILY_LIMIT):
        assert error.error == "TRANSFER_LIMIT_EXCEEDED"
