"""Async engines and the unit of work: the request's (or job's) session is the one place that commits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from laura.core.errors import AppError

Hook = Callable[[], Awaitable[None]]


class Base(DeclarativeBase):
    """Declarative base of every model in every context."""


def async_url(url: str) -> str:
    """Turn a plain `postgresql://` URL (what users and pgserver give) into the asyncpg dialect URL."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def plain_url(url: str) -> str:
    """The libpq form of a URL (for psycopg, psql, pgbench and Procrastinate)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Database:
    """The primary engine (writes) and an optional read replica engine (read-only queries)."""

    def __init__(self, url: str, *, read_url: str | None = None, pool_size: int = 10, max_overflow: int = 20):
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            async_url(url), pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=False
        )
        self.read_engine: AsyncEngine = (
            create_async_engine(async_url(read_url), pool_size=pool_size, max_overflow=max_overflow)
            if read_url
            else self.engine
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self.read_sessionmaker = async_sessionmaker(self.read_engine, expire_on_commit=False, autoflush=False)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """A session that commits when the block ends and rolls back when it raises (jobs, CLI)."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await commit(session)
            except BaseException:
                await session.rollback()
                raise


def before_commit(session: AsyncSession, hook: Hook) -> None:
    """Run `hook` inside the transaction right before it commits (e.g. write the audit rows last)."""
    session.info.setdefault("before_commit", []).append(hook)


def after_commit(session: AsyncSession, hook: Hook) -> None:
    """Run `hook` once the transaction has committed (e.g. wake the outbox relay, drop a cache key)."""
    session.info.setdefault("after_commit", []).append(hook)


async def commit(session: AsyncSession) -> None:
    """Commit with the before/after hooks; the only commit in the code base goes through here."""
    for hook in session.info.pop("before_commit", []):
        await hook()
    await session.commit()
    for hook in session.info.pop("after_commit", []):
        await hook()


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.db.sessionmaker() as session:
        try:
            yield session
        except AppError as error:
            if error.commit_work:
                await commit(session)
            else:
                await session.rollback()
            raise
        except BaseException:
            await session.rollback()
            raise
        else:
            await commit(session)


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.db.read_sessionmaker() as session:
        yield session
        await session.rollback()


SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(_read_session, scope="function")]
