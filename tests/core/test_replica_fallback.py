"""`ReplicaSessionDep` without a usable replica: none configured, it is the request's own session (one pooled
connection per request); one configured but down, its reads fall back to the primary and `/ready` shows the
replica's error without making the instance unready; one naming a primary is reported as not a standby."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter

from laura.core.db import SessionDep
from laura.core.replica import ReplicaSessionDep
from laura.settings import Settings
from tests.bank.support import funded_customer
from tests.server_process import free_port

_DOWN = "a replica that is down"
"""The parameter naming a free port's URL, picked when the test runs: a port picked at collection would
make each xdist worker collect a different test id, and pytest-xdist refuses to run such a suite."""


@pytest.fixture
def read_database_url(request: pytest.FixtureRequest) -> str | None:
    param = getattr(request, "param", None)
    return f"postgresql://postgres@127.0.0.1:{free_port()}/laura" if param == _DOWN else param


@pytest.fixture
def settings(settings: Settings, read_database_url: str | None) -> Settings:
    return settings.model_copy(update={"read_database_url": read_database_url})


async def test_without_a_replica_a_replica_read_is_the_request_session(app) -> None:
    router = APIRouter()

    @router.get("/probe/same-session")
    async def same(session: SessionDep, replica: ReplicaSessionDep) -> dict:
        return {"same": session is replica}

    app.include_router(router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        assert (await http.get("/probe/same-session")).json() == {"same": True}
    assert app.state.db.has_replica is False


@pytest.mark.parametrize("read_database_url", [_DOWN], indirect=True)
async def test_a_replica_down_falls_back_to_the_primary(app, client) -> None:
    _, headers = await funded_customer(app, client, "25.00")
    statement = await client.get("/api/accounts/me/statement", headers=headers)
    assert statement.status_code == 200, statement.text
    assert [e["balance"] for e in statement.json()["data"]] == [25.0]

    ready = await client.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    assert ready.json()["checks"]["replica"].startswith("error: ")


async def test_a_replica_url_naming_a_primary_is_reported(database_url, settings) -> None:
    from laura.app import create_app

    application = create_app(settings.model_copy(update={"read_database_url": database_url}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            ready = await http.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"]["replica"] == "not a standby: LAURA_READ_DATABASE_URL names a primary"
