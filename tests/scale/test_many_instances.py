"""Three API processes and two workers on one database (and one Redis when the run has one) behind a
round-robin proxy behave as one service: the accept race has one winner, an event reaches a socket on
another instance, a job enqueued through one instance runs once on one worker, the login limit is counted
across instances (with Redis), and killing an instance under load loses and doubles no transfer.

One test checks all of it in sequence, so the five processes start once: a module-scoped fixture would
start them once per pytest-xdist worker that the module's tests were spread over."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text

from tests.bank.support import fund
from tests.events_support import eventually
from tests.helpers import TEST_REDIS_URL, auth_headers, login, redis_reachable, register, staff_headers_in
from tests.mobility.support import accept, drivers, passenger, request_ride
from tests.realtime.client import Client, listening
from tests.scale.cluster import API_INSTANCES, FLEET, LOGIN_LIMIT, Cluster, running_cluster
from tests.scale.transfer_load import check_transfers_survive_a_killed_instance

pytestmark = pytest.mark.timeout(600)
"""Five processes starting on a loaded 2-core machine: the suite's 300 s was within reach (204 s seen)."""

ROUNDS = 2


@pytest.fixture
async def cluster(database_url, tmp_path) -> AsyncIterator[Cluster]:
    redis_url = TEST_REDIS_URL if redis_reachable(TEST_REDIS_URL) else None
    async with running_cluster(database_url, tmp_path, redis_url) as running:
        yield running


async def frame_of(socket: Client, kind: str) -> dict:
    """The first frame of `kind` (a customer's own registration may have published something first)."""
    while (frame := await socket.frame())["type"] != kind:
        pass
    return frame


async def check_an_event_crosses_instances(cluster: Cluster) -> None:
    """A socket on instance A (and one through the proxy) hears of a transfer made through instance B."""
    a, b = cluster.apis[0], cluster.apis[1]
    async with cluster.client(a.url) as on_a, cluster.client(b.url) as on_b:
        sender, sender_headers = await auth_headers(on_b)
        await fund(cluster.db, sender["id"], "50.00")
        recipient = await register(on_a)
        token = (await login(on_a, recipient["email"]))["accessToken"]
        async with (
            listening(f"ws://127.0.0.1:{a.port}", token) as on_instance_a,
            listening(cluster.ws_url, token) as through_proxy,
        ):
            sent = await on_b.post(
                "/api/transfers/p2p",
                json={"recipientUserId": recipient["id"], "amount": 12.34},
                headers={**sender_headers, "Idempotency-Key": uuid.uuid4().hex},
            )
            assert sent.status_code == 201, sent.text
            for socket in (on_instance_a, through_proxy):
                frame = await frame_of(socket, "transfer.received")
                assert frame["data"]["transferId"] == sent.json()["id"] and frame["data"]["amount"] == "12.34"


async def budget_checks(cluster: Cluster, user_id: str) -> list:
    async with cluster.db.engine.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT j.id, j.status::text AS status, j.worker_id,"
                " (SELECT count(*) FROM procrastinate_events e WHERE e.job_id = j.id AND e.type = 'started')"
                " AS starts FROM procrastinate_jobs j"
                " WHERE j.task_name = 'bank.budgets_check' AND j.args->>'user_id' = :user ORDER BY j.id"
            ),
            {"user": user_id},
        )
        return list(found)


async def check_a_job_runs_once_on_one_worker(cluster: Cluster) -> None:
    """A budget created through instance A enqueues a check; a transfer through A crossing two thresholds
    enqueues another: each runs once, on one of the two workers, and its alerts are published once."""
    async with cluster.client(cluster.apis[0].url) as on_a:
        user, headers = await auth_headers(on_a)
        await fund(cluster.db, user["id"], "500.00")
        recipient = await register(on_a)
        budget = {"category": "TRANSFERS", "limit": 100.00, "period": "MONTHLY"}
        assert (await on_a.post("/api/budgets", json=budget, headers=headers)).status_code == 201

        async def checks_done(count: int) -> bool:
            jobs = await budget_checks(cluster, user["id"])
            return len(jobs) == count and all(j.status == "succeeded" for j in jobs)

        await eventually(lambda: checks_done(1), seconds=120)
        spent = await on_a.post(
            "/api/transfers/p2p",
            json={"recipientUserId": recipient["id"], "amount": 80.00},
            headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert spent.status_code == 201, spent.text
        await eventually(lambda: checks_done(2), seconds=120)

    workers = await cluster.scalar("SELECT array_agg(id) FROM procrastinate_workers")
    jobs = await budget_checks(cluster, user["id"])
    assert [(j.status, j.starts) for j in jobs] == [("succeeded", 1), ("succeeded", 1)]
    assert {j.worker_id for j in jobs} <= set(workers)
    async with cluster.db.engine.connect() as conn:
        alerts = await conn.execute(
            text(
                "SELECT (data->>'threshold')::int FROM outbox WHERE type = 'budget.threshold_reached'"
                " AND CAST(:user AS uuid) = ANY(user_ids) ORDER BY 1"
            ),
            {"user": user["id"]},
        )
        assert list(alerts.scalars()) == [50, 75]


async def check_the_login_limit_is_shared(cluster: Cluster) -> None:
    """Wrong passwords sent to the instances in turn: with Redis the limit is spent once in total; without
    it each instance counts in its own memory, so the same attempts get three times as far."""
    async with cluster.client() as http:
        user = await register(http)
    wrong = {"email": user["email"], "password": "not-the-passw0rd"}
    instances = [cluster.client(a.url) for a in cluster.apis]
    try:
        answers = [
            (await instances[attempt % API_INSTANCES].post("/auth/login", json=wrong)).status_code
            for attempt in range(LOGIN_LIMIT * API_INSTANCES + API_INSTANCES)
        ]
    finally:
        await asyncio.gather(*(i.aclose() for i in instances))
    allowed = LOGIN_LIMIT if cluster.redis_url else LOGIN_LIMIT * API_INSTANCES
    assert answers == [401] * allowed + [429] * (len(answers) - allowed)
    if cluster.redis_url:
        async with cluster.client() as http:
            right = {"email": user["email"], "password": user["password"]}
            assert (await http.post("/auth/login", json=right)).status_code == 429


async def check_one_driver_wins_the_race(cluster: Cluster, http: httpx.AsyncClient) -> None:
    """The whole fleet accepts one ride at once through the proxy, spread over the three instances."""
    admin_headers = await staff_headers_in(cluster.db, http)
    fleet = await drivers(http, admin_headers, FLEET)
    by_id = {d.id for d in fleet}
    _, rider = await passenger(http)
    for _ in range(ROUNDS):
        created = await request_ride(http, rider)
        assert created.status_code == 201 and created.json()["status"] == "OFFERED", created.text
        ride_id = created.json()["id"]
        offered = await cluster.scalar("SELECT count(*) FROM ride_offers WHERE ride_id = :r", r=ride_id)
        assert offered == FLEET

        answers = await asyncio.gather(*(accept(http, d, ride_id) for d in fleet))

        assert {a.headers["x-upstream"] for a in answers} == {str(i) for i in range(API_INSTANCES)}
        winners = [a.json()["driverId"] for a in answers if a.status_code == 200]
        assert len(winners) == 1 and winners[0] in by_id, [a.status_code for a in answers]
        losers = {(a.status_code, a.json()["error"]) for a in answers if a.status_code != 200}
        assert losers == {(409, "RIDE_ALREADY_ACCEPTED")}
        async with cluster.db.engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT status, driver_id::text FROM rides WHERE id = :r"), {"r": ride_id}
                )
            ).one()
        assert tuple(row) == ("ACCEPTED", winners[0])
        freed = await http.post(f"/rides/{ride_id}/cancel", json={"reason": "next round"}, headers=rider)
        assert freed.status_code == 200, freed.text


async def test_three_instances_and_two_workers_act_as_one(cluster: Cluster) -> None:
    await check_an_event_crosses_instances(cluster)
    await check_a_job_runs_once_on_one_worker(cluster)
    await check_the_login_limit_is_shared(cluster)
    async with cluster.client() as http:
        await check_one_driver_wins_the_race(cluster, http)
        await check_transfers_survive_a_killed_instance(cluster, http)
    assert await cluster.ledger_problems() == []
