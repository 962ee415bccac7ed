"""What the database refuses by itself, and `verify` / `laura ledger verify` finding tampered balances."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from laura.ledger import service as ledger
from tests.ledger.conftest import customer


async def _posted(db) -> ledger.Transaction:
    alice = await customer(db, 1_000)
    async with db.unit_of_work() as session:
        return await ledger.post(
            session, [(alice, "D", 100), ("4300", "C", 100)], reference="fee", reason="FEE"
        )


async def test_an_unbalanced_transaction_is_refused_at_commit(db):
    tx_id = uuid.uuid4()
    async with db.engine.connect() as conn:
        await conn.execute(
            text(
                "INSERT INTO ledger_transactions (id, reference, kind, reason, amount)"
                " VALUES (:id, 'manual', 'posting', 'X', 100)"
            ),
            {"id": tx_id},
        )
        for code, direction, amount in (("1100", "D", 100), ("3100", "C", 90)):
            await conn.execute(
                text(
                    "INSERT INTO ledger_entries (transaction_id, account_id, direction, amount, pending, created_at)"
                    " SELECT :tx, id, :direction, :amount, false, now() FROM ledger_accounts WHERE code = :code"
                ),
                {"tx": tx_id, "code": code, "direction": direction, "amount": amount},
            )
        with pytest.raises(DBAPIError, match="does not balance"):
            await conn.commit()
    async with db.engine.connect() as conn:
        assert (
            await conn.execute(text("SELECT count(*) FROM ledger_transactions WHERE id = :id"), {"id": tx_id})
        ).scalar() == 0


async def test_an_entry_added_later_to_a_balanced_transaction_is_refused(db):
    tx = await _posted(db)
    async with db.engine.connect() as conn:
        await conn.execute(
            text(
                "INSERT INTO ledger_entries (transaction_id, account_id, direction, amount, pending, created_at)"
                " SELECT :tx, id, 'C', 5, false, now() FROM ledger_accounts WHERE code = '4300'"
            ),
            {"tx": tx.id},
        )
        with pytest.raises(DBAPIError, match="does not balance"):
            await conn.commit()


async def test_an_entry_added_after_an_early_check_is_checked_again(db):
    async with db.engine.connect() as conn:
        tx_id = (
            await conn.execute(
                text(
                    "SELECT (r.tx).id FROM ledger_post(gen_random_uuid(), 'early', 'X', NULL, NULL, NULL, NULL,"
                    " NULL, '{NULL,NULL}'::uuid[], '{3100,4300}'::text[], '{D,C}'::text[], '{100,100}'::bigint[]) r"
                )
            )
        ).scalar()
        await conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        await conn.execute(text("SET CONSTRAINTS ALL DEFERRED"))
        await conn.execute(
            text(
                "INSERT INTO ledger_entries (transaction_id, account_id, direction, amount, pending, created_at)"
                " SELECT :tx, id, 'C', 5, false, now() FROM ledger_accounts WHERE code = '4300'"
            ),
            {"tx": tx_id},
        )
        with pytest.raises(DBAPIError, match="does not balance"):
            await conn.commit()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET amount = amount + 1",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transactions SET description = 'edited'",
        "DELETE FROM ledger_transactions",
        "TRUNCATE ledger_entries CASCADE",
    ],
)
async def test_entries_and_transactions_cannot_be_changed(db, statement):
    await _posted(db)
    async with db.engine.connect() as conn:
        with pytest.raises(DBAPIError, match="append-only"):
            await conn.execute(text(statement))


async def test_an_entry_naming_an_unknown_account_is_refused_at_commit(db):
    tx = await _posted(db)
    async with db.engine.connect() as conn:
        await conn.execute(
            text(
                "INSERT INTO ledger_entries (transaction_id, account_id, direction, amount, pending, created_at)"
                " VALUES (:tx, gen_random_uuid(), 'C', 5, false, now()),"
                " (:tx, (SELECT id FROM ledger_accounts WHERE code = '4300'), 'D', 5, false, now())"
            ),
            {"tx": tx.id},
        )
        with pytest.raises(DBAPIError, match="unknown transaction or account"):
            await conn.commit()


async def test_accounts_cannot_be_deleted_or_change_their_flags(db):
    alice = await customer(db, 100)
    async with db.engine.connect() as conn:
        with pytest.raises(DBAPIError, match="append-only"):
            await conn.execute(text("DELETE FROM ledger_accounts WHERE code = :code"), {"code": alice})
    async with db.engine.connect() as conn:
        with pytest.raises(DBAPIError, match="never change"):
            await conn.execute(
                text("UPDATE ledger_accounts SET debits_must_not_exceed_credits = false WHERE code = :code"),
                {"code": alice},
            )
    async with db.engine.connect() as conn:
        with pytest.raises(DBAPIError, match="one balance limit at most"):
            await conn.execute(
                text(
                    "INSERT INTO ledger_accounts (id, code, name, type, debits_must_not_exceed_credits,"
                    " credits_must_not_exceed_debits) VALUES (gen_random_uuid(), 'x', 'x', 'ASSET', true, true)"
                )
            )


async def test_amounts_must_be_positive(db):
    tx = await _posted(db)
    async with db.engine.connect() as conn:
        with pytest.raises(DBAPIError, match="ledger_cents"):
            await conn.execute(
                text(
                    "INSERT INTO ledger_entries (transaction_id, account_id, direction, amount, pending, created_at)"
                    " SELECT :tx, id, 'C', 0, false, now() FROM ledger_accounts WHERE code = '4300'"
                ),
                {"tx": tx.id},
            )


async def test_a_hold_resolves_once(db):
    alice = await customer(db, 1_000)
    async with db.unit_of_work() as session:
        held = await ledger.hold(session, [(alice, "D", 100), ("4300", "C", 100)], reference="h", reason="X")
        await ledger.void_hold(session, held.id)
    async with db.engine.connect() as conn:
        with pytest.raises(DBAPIError, match="only moves once"):
            await conn.execute(
                text("UPDATE ledger_holds SET status = 'posted' WHERE transaction_id = :id"), {"id": held.id}
            )


async def test_a_balance_past_its_limit_is_refused_by_the_table(db):
    alice = await customer(db, 1_000)
    async with db.engine.connect() as conn:
        with pytest.raises(DBAPIError, match="ledger_accounts_balances"):
            await conn.execute(
                text("UPDATE ledger_accounts SET debits_posted = 2000 WHERE code = :code"), {"code": alice}
            )


async def test_verify_names_a_tampered_balance(db):
    alice = await customer(db, 1_000)
    async with db.sessionmaker() as session:
        assert (await ledger.verify(session)).ok
    async with db.engine.begin() as conn:
        await conn.execute(
            text("UPDATE ledger_accounts SET credits_posted = 1500 WHERE code = :code"), {"code": alice}
        )
        await conn.execute(
            text(
                "UPDATE ledger_account_shards SET debits_posted = debits_posted + 7"
                " WHERE shard = 3 AND account_id = (SELECT id FROM ledger_accounts WHERE code = '4300')"
            )
        )
    async with db.sessionmaker() as session:
        report = await ledger.verify(session)
    assert not report.ok
    assert f"account {alice}: stored credits_posted 1500, entries say 1000" in report.problems
    assert "account 4300: stored debits_posted 7, entries say 0" in report.problems


def _cli(database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LAURA_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "laura", "ledger", "verify"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_the_cli_exits_non_zero_on_a_tampered_ledger(db, database_url):
    alice = await customer(db, 1_000)
    clean = _cli(database_url)
    assert clean.returncode == 0, clean.stderr
    assert "ledger sound" in clean.stderr
    async with db.engine.begin() as conn:
        await conn.execute(
            text("UPDATE ledger_accounts SET credits_posted = 900 WHERE code = :code"), {"code": alice}
        )
    tampered = _cli(database_url)
    assert tampered.returncode == 1
    assert f"account {alice}: stored credits_posted 900, entries say 1000" in " ".join(
        tampered.stderr.split()
    )
