"""Fixtures for Pix on our side: the app configured against the sandbox (started once, on a free port),
the app served on a real port so the sandbox can deliver webhooks to it, and a test purpose whose effect
(SQL) and send handlers (Python) leave an observable row in `pix_test_effects` inside the applying
transaction."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import Database
from laura.pix.models import PixCharge, PixSend
from laura.pix.service import create_charge, register_send_handler
from laura.settings import Settings

from .sandbox.fixtures import (
    CLIENT_ID,
    CLIENT_SECRET,
    PIX_KEY,
    control,
    sandbox_server,
    sandbox_url,
    wait_until,
)

__all__ = ["control", "sandbox_server", "sandbox_url"]

WEBHOOK_SECRET = "test-webhook-secret"
PURPOSE = "test.deposit"
SEND_PURPOSE = "test.payout"


async def record_send_done(session: AsyncSession, send: PixSend) -> None:
    await _record_send(session, "sent", send)


async def record_send_failed(session: AsyncSession, send: PixSend) -> None:
    await _record_send(session, "failed", send)


async def _record_send(session: AsyncSession, kind: str, send: PixSend) -> None:
    await session.execute(
        text(
            "INSERT INTO pix_test_effects (kind, ref, e2e_id, amount_cents) VALUES (:kind, :ref, :e2e, :cents)"
        ),
        {"kind": kind, "ref": send.id_envio, "e2e": send.e2e_id, "cents": send.amount_cents},
    )


register_send_handler(SEND_PURPOSE, record_send_done, record_send_failed)


@pytest.fixture
def settings(settings: Settings, sandbox_url: str) -> Settings:
    """The app talks to the sandbox with its credentials and accepts webhooks signed with our secret."""
    return settings.model_copy(
        update={
            "psp_base_url": sandbox_url,
            "psp_client_id": CLIENT_ID,
            "psp_client_secret": CLIENT_SECRET,
            "psp_pix_key": PIX_KEY,
            "psp_webhook_secret": WEBHOOK_SECRET,
        }
    )


TEST_PURPOSE_SQL = (
    (
        "CREATE TABLE pix_test_effects (id serial PRIMARY KEY, kind text NOT NULL, ref text NOT NULL, e2e_id text,"
        " amount_cents bigint NOT NULL)"
    ),
    (
        "CREATE FUNCTION pix_test_record_payment(p_charge pix_charges, p_pix jsonb, p_context jsonb)"
        " RETURNS void LANGUAGE sql AS $$"
        " INSERT INTO pix_test_effects (kind, ref, e2e_id, amount_cents)"
        " VALUES ('paid', p_charge.txid, p_pix ->> 'endToEndId', p_charge.amount_cents) $$"
    ),
    (
        f"INSERT INTO pix_charge_purposes (purpose, effect)"
        f" VALUES ('{PURPOSE}', 'pix_test_record_payment(pix_charges, jsonb, jsonb)')"
    ),
)
"""The test purpose's effect: one row per paid charge, in the statement that applies the Pix."""


@pytest.fixture
async def db(app) -> Database:
    """The app's database, with the test purpose and the table its effect and handlers write to."""
    database: Database = app.state.db
    async with database.engine.begin() as connection:
        for statement in TEST_PURPOSE_SQL:
            await connection.exec_driver_sql(statement)
    return database


@pytest.fixture
def psp(app):  # type: ignore[no-untyped-def]
    """The app's own PSP client (pointed at the sandbox)."""
    return app.state.psp


@pytest.fixture
async def owner(db: Database) -> uuid.UUID:
    user_id = uuid.uuid4()
    async with db.unit_of_work() as session:
        await session.execute(
            text(
                "INSERT INTO users (id, email, password_hash, name, role)"
                " VALUES (:id, :email, 'x', 'Pix Owner', 'customer')"
            ),
            {"id": user_id, "email": f"pix-{user_id.hex[:10]}@example.com"},
        )
    return user_id


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def live_url(app, db) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """`http://127.0.0.1:<port>` serving the `app` fixture (lifespan already running) in the test's loop,
    so the sandbox can post webhooks to it over real HTTP."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", access_log=False
        )
    )
    task = asyncio.create_task(server.serve())
    await wait_until(lambda: server.started or task.done())
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 30)


@pytest.fixture
async def webhook_registered(settings: Settings, live_url: str) -> str:
    """The sandbox's webhook for our key points at the live app, the way `laura up` registers it."""
    from laura.pix.webhook_setup import register_webhook

    return await register_webhook(settings, base_url=live_url)


async def new_charge(db: Database, psp, owner: uuid.UUID, amount: str = "42.50", **options) -> PixCharge:  # type: ignore[no-untyped-def]
    """A committed charge of the test purpose."""
    async with db.unit_of_work() as session:
        return await create_charge(
            session,
            psp,
            purpose=PURPOSE,
            entity_id=f"dep-{uuid.uuid4().hex[:8]}",
            owner_id=owner,
            amount=Decimal(amount),
            **options,
        )


async def scalar(db: Database, sql: str, **params: object) -> object:
    async with db.engine.connect() as conn:
        return await conn.scalar(text(sql), params)


async def rows(db: Database, sql: str, **params: object) -> list:
    async with db.engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).all())


@pytest.fixture
async def api_token(sandbox_url: str) -> str:
    """A bearer token for raw calls to the sandbox's Efí API."""
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=10) as http:
        response = await http.post(
            "/oauth/token", json={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET)
        )
        response.raise_for_status()
        return str(response.json()["access_token"])
