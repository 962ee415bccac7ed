"""Async engines and the unit of work: the request's (or job's) session is the one place that commits."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import TextClause, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session

from laura.core.errors import AppError
from laura.settings import Settings, get_settings

Hook = Callable[[], Awaitable[None]]

_READ_ONLY = "read_only"
_STATEMENTS = "statements"
_SETTINGS = "settings"
_SESSION_KEYS = frozenset({_READ_ONLY, _STATEMENTS, _SETTINGS})
"""What `Database`'s sessionmakers put in a session's info: the session's for its whole life."""
READING_METHODS = frozenset({"GET", "HEAD"})
"""HTTP methods that are safe (RFC 9110): their requests only read, so their session needs no transaction."""
REPLICA_CONNECT_TIMEOUT_SECONDS = 2
"""How long opening a replica connection may take before its reads fall back to the primary; its pooled
connections are pinged when checked out, so one the replica dropped is caught there too."""


class ReadOnlySession(RuntimeError):
    """A write (or a locking read) was tried in a session that only reads, which has no transaction."""


class Base(DeclarativeBase):
    """Declarative base of every model in every context."""


def settings_of(session: AsyncSession) -> Settings:
    """The settings of the app or worker whose database opened `session`: a rule deep in a request (a
    completion hook, a cache drop) reads the same settings the app was started with, not the process's
    environment, which is what a test or a second app in one process configured differently. A session of
    a `Database` made without settings (a CLI command) reads the environment's."""
    settings: Settings | None = session.info.get(_SETTINGS)
    return settings if settings is not None else get_settings()


def async_url(url: str) -> str:
    """Turn a plain `postgresql://` URL (what users and pgserver give) into the asyncpg dialect URL."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def plain_url(url: str) -> str:
    """The libpq form of a URL (for psycopg, psql, pgbench and Procrastinate)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _driver_codecs(connection: asyncpg.Connection) -> None:
    """The codecs SQLAlchemy's dialect installs, so `driver()` and the statement pool agree: `json`/`jsonb`
    take JSON text and come back decoded; `inet`/`cidr` are plain strings."""
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, encoder=str, decoder=json.loads, schema="pg_catalog", format="text"
        )
    for name in ("inet", "cidr"):
        await connection.set_type_codec(name, encoder=str, decoder=str, schema="pg_catalog", format="text")


async def _nothing_to_reset(_: asyncpg.Connection) -> None:
    """The statement pool's connections run single autocommit statements and set no session state, so the
    driver's default reset (a round trip of UNLISTEN, RESET ALL...) on every release would be pure cost."""


class Database:
    """The primary engine (writes), an optional read replica engine (read-only queries), and a pool of plain
    asyncpg connections for the hot paths whose whole unit of work is one statement (`statement_pool`)."""

    def __init__(
        self,
        url: str,
        *,
        read_url: str | None = None,
        pool_size: int = 10,
        max_overflow: int = 20,
        statement_pool_size: int = 10,
        settings: Settings | None = None,
    ):
        self.url = url
        self.statement_pool_size = statement_pool_size
        self._statement_pool: asyncpg.Pool | None = None
        self._statement_pool_opening = asyncio.Lock()
        self.engine: AsyncEngine = create_async_engine(
            async_url(url), pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=False
        )
        self.read_engine: AsyncEngine = (
            create_async_engine(
                async_url(read_url),
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_pre_ping=True,
                connect_args={"timeout": REPLICA_CONNECT_TIMEOUT_SECONDS},
            )
            if read_url
            else self.engine
        )
        info = {_SETTINGS: settings}
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, autoflush=False, info=info
        )
        self.replica_sessionmaker = async_sessionmaker(
            self.read_engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
            autoflush=False,
            info={**info, _READ_ONLY: True},
        )
        """Read-only sessions on the replica (`laura.core.replica`), in autocommit like `reading_sessionmaker`'s;
        with no statement pool named, their `$n` reads run on the session's own (replica) connection."""
        self.reading_sessionmaker = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
            autoflush=False,
            info={**info, _READ_ONLY: True, _STATEMENTS: self},
        )
        """Sessions for a request that only reads (`SessionDep` of a GET): on the same pool, in autocommit.
        Under READ COMMITTED every statement of a transaction takes its own snapshot anyway, so reads
        gain nothing from BEGIN and COMMIT but their two round trips; a write is refused (`ReadOnlySession`).
        Their `$n` reads (`fetch`, `fetchrow`, `fetchval`) go to the statement pool instead of the
        session's connection (`_reading`), so a GET that reads only through the driver never checks out a
        SQLAlchemy connection: that checkout and its return were a quarter of an ordinary GET's CPU."""

    async def statement_pool(self) -> asyncpg.Pool:
        """Plain asyncpg connections, opened on first use, for a unit of work that is one statement: sent
        in autocommit it is its own transaction, with no BEGIN or COMMIT round trip and no SQLAlchemy
        session (see `laura.core.statement`)."""
        if self._statement_pool is None:
            async with self._statement_pool_opening:
                if self._statement_pool is None:
                    self._statement_pool = await asyncpg.create_pool(
                        plain_url(self.url),
                        min_size=1,
                        max_size=self.statement_pool_size,
                        init=_driver_codecs,
                        reset=_nothing_to_reset,
                    )
        return self._statement_pool

    @property
    def has_replica(self) -> bool:
        return self.read_engine is not self.engine

    async def dispose(self) -> None:
        if self._statement_pool is not None:
            await self._statement_pool.close()
            self._statement_pool = None
        await self.engine.dispose()
        if self.has_replica:
            await self.read_engine.dispose()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """A session that commits when the block ends and rolls back when it raises (jobs, CLI)."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await commit(session)
            except BaseException:
                await rollback(session)
                raise


async def driver(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the session's current transaction (begun if need be; a read-only
    session's statements run in autocommit, see `Database.reading_sessionmaker`).

    For the statements on the hot paths (authentication, idempotency, ledger postings, audit, outbox):
    SQLAlchemy costs about 0.1 ms of CPU per statement over the driver's own prepared-statement call
    (docs/PERFORMANCE.md), as much as the round trip itself. Statements sent here are in the same
    transaction as the session's, so they commit or roll back with it. SQL is written with `$n`
    placeholders and arguments are always bound, never formatted in; `jsonb` arguments are JSON text and
    `json`/`jsonb` results come back decoded (the codecs SQLAlchemy's dialect installs).
    """
    transaction = session.get_transaction()
    cached = session.info.get("driver")
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cached[1]
    connection = await session.connection()
    adapted: Any = (await connection.get_raw_connection()).dbapi_connection
    # SQLAlchemy's asyncpg adapter sends BEGIN lazily, with its first statement; a statement sent straight
    # to the driver before that would run outside the transaction (autocommit). Begin it now, the way the
    # adapter itself does (its private API: pinned by tests/core/test_db.py).
    if adapted._transaction is None and not adapted.autocommit:
        await adapted._start_transaction()
    raw = adapted.driver_connection
    session.info["driver"] = (session.get_transaction(), raw)
    return raw


@asynccontextmanager
async def _reading(session: AsyncSession, sql: str) -> AsyncIterator[asyncpg.Connection]:
    """The connection a `$n` read runs on: the session's transaction's, or for a read-only session (a
    GET's, in autocommit: each statement is its own snapshot either way) one of the statement pool's for
    just this statement."""
    _refuse_writing_sql(session, sql)
    database: Database | None = session.info.get(_STATEMENTS)
    if database is None:
        yield await driver(session)
        return
    async with (await database.statement_pool()).acquire() as connection:
        yield connection


async def fetch(session: AsyncSession, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Every row of a `$n` statement run on the session's transaction; see `driver` and `_reading`."""
    async with _reading(session, sql) as connection:
        rows: list[asyncpg.Record] = await connection.fetch(sql, *args)
        return rows


async def fetchrow(session: AsyncSession, sql: str, *args: Any) -> asyncpg.Record | None:
    """One row (or None) of a `$n` statement run on the session's transaction; see `driver`."""
    async with _reading(session, sql) as connection:
        return await connection.fetchrow(sql, *args)


async def fetchval(session: AsyncSession, sql: str, *args: Any) -> Any:
    """The first column of the first row of a `$n` statement run on the session's transaction."""
    async with _reading(session, sql) as connection:
        return await connection.fetchval(sql, *args)


async def execute(session: AsyncSession, sql: str, *args: Any) -> None:
    """Run a `$n` statement on the session's transaction for its effect; see `driver`."""
    _refuse_writes(session, "execute")
    await (await driver(session)).execute(sql, *args)


_PLACEHOLDER = re.compile(r"\$(\d+)")


def write_at_commit(session: AsyncSession, sql: str, *args: Any) -> None:
    """Queue a write whose result nobody reads (an audit row, an outbox event, a stored answer).

    `commit` sends every write queued in the transaction as one statement right before COMMIT: one round
    trip instead of one each. `sql` is one INSERT/UPDATE/DELETE, or a SELECT of a function called for its
    effect, with `$n` placeholders (none inside literals). The writes of one commit share a snapshot and
    cannot see each other's rows: queue only writes that do not read what another queued write writes.
    """
    _refuse_writes(session, "write_at_commit")
    session.info.setdefault("writes", []).append((sql, args))


def _shifted(sql: str, offset: int) -> str:
    """`sql` with each `$n` placeholder moved up by `offset`."""
    return _PLACEHOLDER.sub(lambda m: f"${int(m.group(1)) + offset}", sql)


def _combined(writes: list[tuple[str, tuple[Any, ...]]]) -> tuple[str, list[Any]]:
    """Writes as data-modifying CTEs of one statement; a SELECT runs only when read, so the final query
    reads each SELECT's rows."""
    ctes: list[str] = []
    reads: list[str] = []
    args: list[Any] = []
    for n, (sql, values) in enumerate(writes):
        offset = len(args)
        ctes.append(f"w{n} AS ({_shifted(sql, offset)})")
        if sql.lstrip()[:6].upper() == "SELECT":
            reads.append(f"(SELECT count(*) FROM w{n})")
        args.extend(values)
    return f"WITH {', '.join(ctes)} SELECT {', '.join(reads) or '1'}", args


async def _send_writes(session: AsyncSession) -> None:
    writes = session.info.pop("writes", None)
    if not writes:
        return
    if len(writes) == 1:
        await execute(session, writes[0][0], *writes[0][1])
        return
    sql, args = _combined(writes)
    await execute(session, sql, *args)


def _refuse_writes(session: AsyncSession | Session, what: str) -> None:
    if session.info.get(_READ_ONLY):
        raise ReadOnlySession(f"{what} in a read-only session (a GET request's): use a method that writes")


@event.listens_for(Session, "before_flush")
def _no_flush_when_reading(session: Session, _context: object, _instances: object) -> None:
    _refuse_writes(session, "flush")


_READING_SQL = re.compile(
    r"\s*(SELECT|WITH|SHOW|VALUES|TABLE)\b(?!.*\bFOR\s+(NO\s+KEY\s+)?(UPDATE|SHARE)\b)",
    re.IGNORECASE | re.DOTALL,
)
"""SQL text that reads (by its first word; a function it calls is not looked into) and takes no row lock."""


def _refuse_writing_sql(session: AsyncSession | Session, sql: str) -> None:
    if session.info.get(_READ_ONLY) and not _READING_SQL.match(sql):
        _refuse_writes(session, sql.split(None, 1)[0] if sql.strip() else "empty statement")


@event.listens_for(Session, "do_orm_execute")
def _no_write_statement_when_reading(state: ORMExecuteState) -> None:
    if not state.session.info.get(_READ_ONLY):
        return
    if state.is_insert or state.is_update or state.is_delete:
        _refuse_writes(state.session, "INSERT, UPDATE or DELETE")
    elif state.is_select and getattr(state.statement, "_for_update_arg", None) is not None:
        _refuse_writes(state.session, "SELECT ... FOR UPDATE/SHARE")
    elif isinstance(state.statement, TextClause):
        _refuse_writing_sql(state.session, state.statement.text)


@event.listens_for(Session, "before_commit")
def _no_unsent_writes(session: Session) -> None:
    """A commit that bypasses `commit` would silently drop the queued writes: refuse it."""
    if session.info.get("writes"):
        raise RuntimeError("writes queued with write_at_commit: commit with laura.core.db.commit")


def before_commit(session: AsyncSession, hook: Hook) -> None:
    """Run `hook` inside the transaction right before it commits (e.g. write the audit rows last)."""
    _refuse_writes(session, "before_commit")
    session.info.setdefault("before_commit", []).append(hook)


def after_commit(session: AsyncSession, hook: Hook) -> None:
    """Run `hook` once the transaction has committed (e.g. wake the outbox relay, drop a cache key)."""
    _refuse_writes(session, "after_commit")
    session.info.setdefault("after_commit", []).append(hook)


def after_rollback(session: AsyncSession, hook: Hook) -> None:
    """Run `hook` once the transaction has rolled back (e.g. store a refusal that must outlive it)."""
    session.info.setdefault("after_rollback", []).append(hook)


async def rollback(session: AsyncSession) -> None:
    """Roll back, then run the after-rollback hooks; everything queued for the commit is dropped."""
    await session.rollback()
    hooks = session.info.pop("after_rollback", [])
    # What the transaction queued (hooks, writes, pending audit rows) goes with it; what the sessionmaker
    # gave the session (its settings, read-only mark) stays, or a rule after the rollback reads other settings.
    for key in [key for key in session.info if key not in _SESSION_KEYS]:
        del session.info[key]
    for hook in hooks:
        await hook()


async def commit(session: AsyncSession) -> None:
    """Commit with the before/after hooks; the only commit in the code base goes through here."""
    for hook in session.info.pop("before_commit", []):
        await hook()
    await session.flush()
    await _send_writes(session)
    await session.commit()
    session.info.pop("after_rollback", None)
    for hook in session.info.pop("after_commit", []):
        await hook()


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed when the route returns, rolled back when it raises; a GET's
    session only reads, so it has no transaction to end (`Database.reading_sessionmaker`)."""
    if request.method in READING_METHODS:
        async with request.app.state.db.reading_sessionmaker() as session:
            yield session
        return
    async with request.app.state.db.sessionmaker() as session:
        try:
            yield session
        except AppError as error:
            if error.commit_work:
                await commit(session)
            else:
                await rollback(session)
            raise
        except BaseException:
            await rollback(session)
            raise
        else:
            await commit(session)


SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
