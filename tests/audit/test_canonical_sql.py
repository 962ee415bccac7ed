"""`audit_canonical` (SQL) writes exactly the text `canonical` (Python) hashes, so the rows a PL/pgSQL unit of
work appends with `audit_append_row` verify like the ones Python appends."""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import make_url

from laura.audit import service as audit
from laura.audit.repository import AuditRepository
from laura.audit.service import AUDIT_CHAINS, canonical, entry, verify_chain
from laura.core.db import Database
from laura.core.migrations import upgrade
from laura.core.statement import one_statement

_CANONICAL = "SELECT audit_canonical($1::smallint, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11)"
_APPEND_ROW = "SELECT audit_append_row($1::smallint, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11)"


def _args(row: dict) -> tuple:
    """`audit_canonical`'s arguments for a row, sent the way the app sends `audit_append`'s (old and new as
    JSON text cast to jsonb)."""
    return AuditRepository.append_args(row, "")[:-1]


# Any character PostgreSQL text can hold (no NUL, no lone surrogate), with the ones JSON escapes, the ones a
# linguistic collation orders differently from code points, DEL, non-ASCII and non-BMP drawn often.
_TRICKY = '"\\/\b\f\n\r\t\x01\x1b\x1f\x7f\x80\xa0aAbBzZ_-. éÉèfñ\u2028\u2029\ufeff\uffff\U0001f600\U0010ffff'
_chars = st.one_of(st.sampled_from(_TRICKY), st.characters(codec="utf-8", exclude_characters="\x00"))
_texts = st.text(_chars, max_size=10)
_ints = st.one_of(
    st.integers(),
    st.integers(-(10**40), 10**40),
    st.sampled_from([0, -1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), 2**64]),
)
_values = st.recursive(
    st.one_of(st.none(), st.booleans(), _ints, _texts),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_texts, inner, max_size=4)),
    max_leaves=15,
)
_old_new = st.one_of(st.none(), st.dictionaries(_texts, _values, max_size=6))
_offsets = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
_moments = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.one_of(st.just(UTC), _offsets)
)
_rows = st.fixed_dictionaries(
    {
        "chain": st.integers(0, AUDIT_CHAINS - 1),
        "occurred_at": st.one_of(_moments, _moments.map(lambda moment: moment.replace(microsecond=0))),
        "actor_id": st.one_of(st.none(), st.uuids()),
        "action": _texts,
        "resource_type": _texts,
        "resource_id": st.one_of(st.none(), _texts),
        "old": _old_new,
        "new": _old_new,
        "ip": st.one_of(st.none(), _texts),
        "user_agent": st.one_of(st.none(), _texts),
        "request_id": st.one_of(st.none(), _texts),
    }
)


@pytest.fixture
def linguistic_database_url(pg_server_url: str) -> Iterator[str]:
    """A database migrated to head whose default collation is linguistic (ICU root: "a" < "B" < "é" < "f"),
    unlike the test cluster's C.UTF-8, where code point order is the default and a missing COLLATE "C"
    would go unnoticed."""
    name = f"laura_t_icu_{os.getpid()}_{secrets.token_hex(4)}"
    admin = make_url(pg_server_url).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        try:
            conn.execute(
                f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'"
                " LOCALE_PROVIDER icu ICU_LOCALE 'und'"
            )
        except psycopg.errors.FeatureNotSupported:
            pytest.skip("PostgreSQL built without ICU (the embedded server)")
    url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("database", ["database_url", "linguistic_database_url"])
def test_sql_canonical_text_is_pythons(database, request):
    url = request.getfixturevalue(database)
    with asyncio.Runner() as runner:
        db = Database(url, pool_size=1, max_overflow=0, statement_pool_size=1)
        try:
            # the statement pool (the app's codecs) holds one connection: every example reuses it
            pool = runner.run(db.statement_pool())

            @settings(max_examples=150, deadline=None)
            @given(row=_rows)
            def sql_matches_python(row: dict) -> None:
                assert runner.run(pool.fetchval(_CANONICAL, *_args(row))) == canonical(row)

            sql_matches_python()
        finally:
            runner.run(db.dispose())


def _row(chain: int, occurred_at: datetime, action: str, **fields) -> dict:
    empty = dict.fromkeys(("actor_id", "resource_id", "old", "new", "ip", "user_agent", "request_id"))
    return {
        "chain": chain,
        "occurred_at": occurred_at,
        "action": action,
        "resource_type": "test",
        **empty,
        **fields,
    }


async def test_rows_appended_in_sql_verify_with_the_rows_appended_in_python(database_url):
    brt = timezone(timedelta(hours=-3))
    sql_rows = [
        _row(5, datetime(2025, 3, 1, 9, 30, tzinfo=brt), "SQL_ONE", actor_id=uuid.uuid4(), resource_id="r-1",
             new={"status": "ACCEPTED", "version": 3, "note": 'tab\t "q" \\ é 😀\x7f\x01', "zz": [True, None]},
             ip="203.0.113.9", user_agent="agent/1.0", request_id="req-1"),
        _row(5, datetime(2025, 3, 1, 12, 30, 0, 123456, tzinfo=UTC), "SQL_TWO",
             old={"b": 1, "B": -(10**20), "é": {}, "f": [], 'say "hi"\n': "x"},
             new={"": "empty key", "\u2028": "line sep"}),
        _row(7, datetime(2025, 3, 2, tzinfo=timezone(timedelta(hours=5, minutes=45))), "SQL_THREE"),
    ]  # fmt: skip
    db = Database(database_url, pool_size=2, max_overflow=0, statement_pool_size=1)
    try:
        ids = [(await one_statement(db, _APPEND_ROW, *_args(row)))[0] for row in sql_rows[:2]]
        # the Python way on the same chain, and `record` on a random one, in one unit of work
        async with db.unit_of_work() as session:
            python_rows = [
                entry(chain=5, action="PY_ONE", resource_type="test", new={"k": "v"}),
                entry(chain=5, action="PY_TWO", resource_type="test", old={"k": "v"}, new={"k": "w"}),
            ]
            await AuditRepository(session).append([(row, canonical(row)) for row in python_rows])
            audit.record(session, action="PY_RECORDED", resource_type="test", resource_id="x", new={"n": 1})
        ids.append((await one_statement(db, _APPEND_ROW, *_args(sql_rows[2])))[0])
        # a PL/pgSQL unit of work whose audit rows hold what only SQL knows (ids, times, built objects)
        await one_statement(
            db,
            r"""
            DO $$
            DECLARE
                v_ride uuid := gen_random_uuid();
            BEGIN
                PERFORM audit_append_row(
                    5::smallint, clock_timestamp(), v_ride, 'SQL_UNIT', 'ride', v_ride::text,
                    jsonb_build_object('status', 'OFFERED', 'version', 2),
                    jsonb_build_object('status', 'ACCEPTED', 'version', 3, 'driverId', gen_random_uuid(),
                                       'note', E'tab\t"q"\\ é \U0001F600',
                                       'tags', jsonb_build_array('b', 'a', NULL, true)),
                    NULL, NULL, 'req-sql');
                PERFORM audit_append_row(
                    5::smallint, date_trunc('second', clock_timestamp()), NULL, 'SQL_UNIT_2', 'ride',
                    v_ride::text, NULL, '{}', NULL, NULL, NULL);
            END $$
            """,
        )
        async with db.sessionmaker() as session:
            report = await verify_chain(session)
            total = await session.scalar(text("SELECT count(*) FROM audit_logs"))
            by_action = dict((await session.execute(text("SELECT action, id FROM audit_logs"))).all())
            chain_5 = await session.scalar(text("SELECT count(*) FROM audit_logs WHERE chain = 5"))
            unit = await session.scalar(text("SELECT new_values FROM audit_logs WHERE action = 'SQL_UNIT'"))
    finally:
        await db.dispose()
    assert ids == [by_action["SQL_ONE"], by_action["SQL_TWO"], by_action["SQL_THREE"]]
    assert total == 3 + 3 + 2
    assert unit["note"] == 'tab\t"q"\\ é 😀' and unit["tags"] == ["b", "a", None, True]
    assert chain_5 >= 6  # the SQL and Python rows interleave on one chain
    assert report.ok, report
    assert report.rows == total
