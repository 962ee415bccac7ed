"""Every PostgreSQL function of a database migrated to head is exactly its `laura/**/sql/*.sql` file, and every
function has one: a `.sql` change without its migration (`laura migrate new-sql`) fails here."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from laura.core.sql_definitions import PACKAGE_DIR, compare, defined_names, definitions, sql_files
from laura.core.sql_migration import render


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url) as connection:
        yield connection


def test_every_function_of_a_migrated_database_is_its_file_and_has_one(conn: psycopg.Connection) -> None:
    comparison = compare(conn)
    assert comparison.clean, "\n" + comparison.report() + '\n(run `laura migrate new-sql "..."`)'
    assert sum(len(defined_names(path.read_text())) for path in sql_files()) == len(definitions(conn))


def test_procrastinate_functions_are_the_librarys_not_ours(conn: psycopg.Connection) -> None:
    names = {name for name, _ in definitions(conn).values()}
    assert names and not any(name.startswith("procrastinate_") for name in names)
    assert conn.execute("SELECT count(*) FROM pg_proc WHERE proname LIKE 'procrastinate%'").fetchone()[0] > 0


def test_a_function_changed_in_the_database_only_is_reported(conn: psycopg.Connection) -> None:
    conn.execute(
        "CREATE OR REPLACE FUNCTION iso_utc(p timestamptz) RETURNS text LANGUAGE sql STABLE AS $$ SELECT 'x' $$"
    )
    conn.commit()
    report = compare(conn).report()
    assert (
        "laura/core/sql/iso_utc.sql: differs from the database for iso_utc(timestamp with time zone)"
        in report
    )


def test_a_function_without_a_file_and_a_file_without_its_migration_are_reported(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    conn.execute("CREATE FUNCTION forgotten() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$")
    conn.commit()
    new_file = tmp_path / "feature" / "sql" / "fresh.sql"
    new_file.parent.mkdir(parents=True)
    new_file.write_text(
        "CREATE OR REPLACE FUNCTION fresh(p int) RETURNS int LANGUAGE sql AS $$ SELECT p $$;\n"
    )
    comparison = compare(conn, [*sql_files(), new_file])
    assert comparison.unowned == ["forgotten()"]
    assert [drift.added for drift in comparison.files if drift.added] == [["fresh(integer)"]]
    assert not comparison.clean


def test_a_changed_result_type_cannot_be_applied_in_place(conn: psycopg.Connection, tmp_path: Path) -> None:
    path = tmp_path / "sql" / "iso_utc.sql"
    path.parent.mkdir()
    path.write_text(
        "CREATE OR REPLACE FUNCTION iso_utc(p timestamptz) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;"
    )
    (drift,) = compare(conn, [path]).files
    assert drift.error is not None and "cannot be applied in place" in drift.error


def test_the_written_migration_brings_a_stale_database_to_the_files_and_its_downgrade_back(
    conn: psycopg.Connection,
) -> None:
    """`laura migrate new-sql`'s migration, from a database whose `iso_utc` and `uuid7` differ from their
    files: upgrade makes it equal the files, downgrade gives back exactly what it replaced."""
    conn.execute(
        "CREATE OR REPLACE FUNCTION iso_utc(p timestamptz) RETURNS text LANGUAGE sql STABLE AS $$ SELECT '%' $$;"
        "CREATE OR REPLACE FUNCTION uuid7() RETURNS uuid LANGUAGE sql VOLATILE AS $$ SELECT gen_random_uuid() $$"
    )
    conn.commit()
    stale = definitions(conn)
    comparison = compare(conn)
    source, files = render(comparison, message="Test", revision="9999", down_revision="9998")
    assert files == ["laura/core/sql/iso_utc.sql", "laura/core/sql/uuid7.sql"]
    module = ast.parse(source)
    constants = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in module.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    assert (constants["revision"], constants["down_revision"]) == ("9999", "9998")
    assert (
        constants["UPGRADE"]["laura/core/sql/iso_utc.sql"]
        == (PACKAGE_DIR / "core" / "sql" / "iso_utc.sql").read_text()
    )

    with conn.cursor() as cursor:
        for text in constants["UPGRADE"].values():
            cursor.execute(text)
    conn.commit()
    assert compare(conn).clean
    with conn.cursor() as cursor:
        for text in constants["DOWNGRADE"]:
            cursor.execute(text)
    conn.commit()
    assert definitions(conn) == stale
