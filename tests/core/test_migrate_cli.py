"""`laura migrate` still upgrades to head, and `laura migrate new-sql` writes nothing while every SQL file
matches head."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from laura.cli import app as cli
from laura.core.migrations import MIGRATIONS_DIR, head_revision
from laura.settings import get_settings


@pytest.fixture
def empty_database(pg_server_url: str, monkeypatch) -> Iterator[str]:
    name = f"laura_t_cli_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_url(pg_server_url).set(database="postgres").render_as_string(hide_password=False)
    url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    monkeypatch.setenv("LAURA_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migrate_upgrades_to_head(empty_database: str) -> None:
    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code == 0, result.output
    with psycopg.connect(empty_database) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (head_revision(),)


def test_new_sql_writes_nothing_when_every_file_matches_head(empty_database: str) -> None:
    before = sorted(Path(MIGRATIONS_DIR, "versions").glob("*.py"))
    result = CliRunner().invoke(cli, ["migrate", "new-sql", "nothing changed"])
    assert result.exit_code == 0, result.output
    assert "no migration needed" in result.output
    assert sorted(Path(MIGRATIONS_DIR, "versions").glob("*.py")) == before
