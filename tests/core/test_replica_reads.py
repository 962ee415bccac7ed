"""Against a real streaming replica (`tests.replica_cluster`), its replay paused to make it lag: the reads that
may be a moment old (statement, its CSV, transfers list, analytics, ride history, the web statement) come
from the replica, and the balance, the balance check of a transfer and every non-GET come from the primary."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import text

from laura.core.replica import ReplicaSessionDep
from laura.settings import Settings
from tests.bank.support import balance, funded_customer
from tests.helpers import auth_headers
from tests.mobility.support import passenger, request_ride
from tests.replica_cluster import ReplicaCluster, ReplicaUnavailable, replica_cluster
from tests.web.support import browser, sign_in

_ENTRY = re.compile(r'data-testid="statement-entry"')


@pytest.fixture(scope="module")
def cluster() -> Iterator[ReplicaCluster]:
    try:
        with replica_cluster() as running:
            yield running
    except ReplicaUnavailable as why:
        pytest.skip(f"no streaming replica can run here: {why}")


@pytest.fixture
def database_url(cluster: ReplicaCluster) -> str:
    """The app's primary is the cluster's (one database for the module: each test makes its own users)."""
    return cluster.primary_url


@pytest.fixture
def settings(settings: Settings, cluster: ReplicaCluster) -> Settings:
    return settings.model_copy(update={"read_database_url": cluster.replica_url})


async def _p2p(client: httpx.AsyncClient, headers: dict, recipient: dict, amount: float) -> httpx.Response:
    return await client.post(
        "/api/transfers/p2p", json={"recipientUserId": recipient["id"], "amount": amount}, headers=headers
    )


async def _statement(client: httpx.AsyncClient, headers: dict) -> list[dict]:
    answer = await client.get("/api/accounts/me/statement", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


async def _csv_lines(client: httpx.AsyncClient, headers: dict) -> int:
    exported = await client.get("/api/accounts/me/statement?format=csv", headers=headers)
    assert exported.status_code == 200, exported.text
    return len(list(csv.reader(io.StringIO(exported.text))))


async def test_statement_transfers_and_analytics_read_the_replica(app, client, cluster) -> None:
    _, headers = await funded_customer(app, client, "100.00")
    recipient, _ = await auth_headers(client)

    with cluster.replay_paused():
        sent = await _p2p(client, headers, recipient, 30.00)
        assert sent.status_code == 201, sent.text
        # the primary has it: the balance is read there
        assert await balance(client, headers) == Decimal("70.00")
        # the replica does not yet: statement, its CSV, the transfers list and analytics are read there
        assert [(e["type"], e["balance"]) for e in await _statement(client, headers)] == [
            ("DEMO_FUNDING", 100.0)
        ]
        assert await _csv_lines(client, headers) == 2  # its header and the deposit
        listed = (await client.get("/api/transfers", headers=headers)).json()
        assert listed["data"] == [] and listed["pagination"]["total"] == 0
        spent = (await client.get("/api/analytics/category-spending", headers=headers)).json()
        assert spent["data"] == [] and spent["total"] == 0
        # one transfer by its id is the primary's: its id comes from the POST just made
        one = await client.get(f"/api/transfers/{sent.json()['id']}", headers=headers)
        assert one.status_code == 200 and one.json()["status"] == "COMPLETED"

    # replayed: the same reads now show it
    assert [(e["type"], e["balance"]) for e in await _statement(client, headers)] == [
        ("P2P_TRANSFER", 70.0),
        ("DEMO_FUNDING", 100.0),
    ]
    assert await _csv_lines(client, headers) == 3
    listed = (await client.get("/api/transfers", headers=headers)).json()
    assert [t["id"] for t in listed["data"]] == [sent.json()["id"]]
    spent = (await client.get("/api/analytics/category-spending", headers=headers)).json()
    assert spent["total"] == 30.0 and [c["category"] for c in spent["data"]] == ["TRANSFERS"]


async def test_balance_check_of_a_transfer_reads_the_primary_while_the_replica_lags(
    app, client, cluster
) -> None:
    """The replica still shows 100 after 80 of it was spent: a second transfer of 50, which that stale
    balance would allow, is refused, and nothing of it reaches the ledger."""
    _, headers = await funded_customer(app, client, "100.00")
    recipient, recipient_headers = await auth_headers(client)

    with cluster.replay_paused():
        assert (await _p2p(client, headers, recipient, 80.00)).status_code == 201
        assert [e["balance"] for e in await _statement(client, headers)] == [100.0]  # the replica's view
        refused = await _p2p(client, headers, recipient, 50.00)
        assert refused.status_code == 402 and refused.json()["error"] == "INSUFFICIENT_BALANCE"
        assert await balance(client, headers) == Decimal("20.00")

    assert [e["balance"] for e in await _statement(client, headers)] == [20.0, 100.0]
    assert await balance(client, recipient_headers) == Decimal("80.00")
    listed = (await client.get("/api/transfers", headers=headers)).json()
    assert [(t["amount"], t["status"]) for t in listed["data"]] == [(80.0, "COMPLETED")]


async def test_web_statement_reads_the_replica(app, client, cluster) -> None:
    sender, headers = await funded_customer(app, client, "100.00")
    recipient, _ = await auth_headers(client)
    async with browser(app) as web:
        await sign_in(web, sender["email"])
        with cluster.replay_paused():
            assert (await _p2p(client, headers, recipient, 12.34)).status_code == 201
            page = await web.get("/statement")
            assert page.status_code == 200 and len(_ENTRY.findall(page.text)) == 1
        page = await web.get("/statement")
        assert len(_ENTRY.findall(page.text)) == 2


async def test_ride_history_reads_the_replica(app, client, cluster) -> None:
    _, rider_headers = await passenger(client)
    with cluster.replay_paused():
        ride = await request_ride(client, rider_headers)  # no driver online: EXPIRED, a finished ride
        assert ride.status_code == 201 and ride.json()["status"] == "EXPIRED", ride.text
        seen = (await client.get(f"/rides/{ride.json()['id']}", headers=rider_headers)).json()
        assert seen["status"] == "EXPIRED"  # one ride is the primary's
        history = (await client.get("/rides/history", headers=rider_headers)).json()
        assert history["data"] == [] and history["pagination"]["total"] == 0
    history = (await client.get("/rides/history", headers=rider_headers)).json()
    assert [r["id"] for r in history["data"]] == [ride.json()["id"]]


@pytest.fixture
async def probe(app) -> httpx.AsyncClient:
    """A route naming `ReplicaSessionDep` for GET and POST, answering which server it read."""
    router = APIRouter(prefix="/probe")

    async def which(session: ReplicaSessionDep) -> dict:
        standby = (await session.execute(text("SELECT pg_is_in_recovery()"))).scalar_one()
        return {"standby": standby}

    router.add_api_route("/which", which, methods=["GET", "POST"])
    app.include_router(router)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_only_a_get_reads_the_replica(probe) -> None:
    async with probe:
        assert (await probe.get("/probe/which")).json() == {"standby": True}
        assert (await probe.post("/probe/which")).json() == {"standby": False}


async def test_ready_with_a_replica(client) -> None:
    answer = await client.get("/ready")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "replica": "ok"},
    }
