"""The hot accounts' shard count is one number in two languages: `ledger_apply` (laura/ledger/sql/
ledger_apply.sql) picks a shard `pg_backend_pid() % 16`, and Python opens `SHARDS` shard rows per hot account
(laura.ledger.repository), as the chart of migration 0002 did."""

from __future__ import annotations

from laura.core.db import Database
from laura.ledger.repository import SHARDS
from tests.sql_support import rows, scalar


async def test_ledger_apply_picks_among_the_shard_rows_every_hot_account_has(db: Database) -> None:
    source = await scalar(db, "SELECT prosrc FROM pg_proc WHERE proname = 'ledger_apply'")
    assert f"pg_backend_pid() % {SHARDS};" in source
    counts = await rows(
        db,
        "SELECT count(s.shard), min(s.shard), max(s.shard) FROM ledger_accounts a"
        " JOIN ledger_account_shards s ON s.account_id = a.id WHERE a.hot GROUP BY a.id",
    )
    assert counts and set(counts) == {(SHARDS, 0, SHARDS - 1)}
