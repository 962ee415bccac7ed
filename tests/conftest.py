"""Test fixtures: a real PostgreSQL (LAURA_TEST_DATABASE_URL, else the embedded one), one fresh database per
test cloned from a migrated template, and the app served over ASGI or a real socket."""

from __future__ import annotations

import base64
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from laura.app import create_app
from laura.core.db import plain_url
from laura.core.migrations import upgrade
from laura.settings import Settings

TEST_SECRET = base64.urlsafe_b64encode(b"k" * 32).decode()


def _server_url() -> str:
    url = os.environ.get("LAURA_TEST_DATABASE_URL")
    if url:
        return plain_url(url)
    from laura.core.embedded import embedded_database_url

    return embedded_database_url(Path(__file__).resolve().parents[1] / ".laura" / "test")


def _with_db(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(_with_db(url, "postgres"), autocommit=True)


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    return _server_url()


@pytest.fixture(scope="session")
def template_db(pg_server_url: str) -> Iterator[str]:
    """A database migrated to head once per run; tests clone it (cheap file copy)."""
    name = f"laura_tpl_{os.getpid()}_{secrets.token_hex(3)}"
    with _admin(pg_server_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(_with_db(pg_server_url, name))
    yield name
    with _admin(pg_server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_database(pg_server_url: str, prefix: str, template: str | None = None) -> Iterator[str]:
    """A database of its own on the test server (a copy of `template`, else empty), dropped after."""
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    copy = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
    with _admin(pg_server_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield _with_db(pg_server_url, name)
    finally:
        with _admin(pg_server_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(pg_server_url: str, template_db: str) -> Iterator[str]:
    with scratch_database(pg_server_url, "laura_t", template_db) as url:
        yield url


@pytest.fixture
def redis_url() -> str | None:
    return None


@pytest.fixture
def settings(database_url: str, redis_url: str | None, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        redis_url=redis_url,
        data_dir=tmp_path,
        secret_key=TEST_SECRET,
        rate_limits_enabled=False,
        log_level="WARNING",
        db_pool_size=5,
        db_max_overflow=60,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
