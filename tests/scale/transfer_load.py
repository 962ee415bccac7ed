"""Concurrent P2P transfers, each with an Idempotency-Key of its own, sent through the proxy while one API
instance is killed (SIGKILL) with requests in flight on it; then what the database says about them."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from decimal import Decimal

import httpx
from sqlalchemy import text

from tests.bank.support import balance, fund
from tests.events_support import eventually
from tests.helpers import auth_headers
from tests.scale.cluster import Cluster

SENDERS = 3
TRANSFERS_EACH = 15
AT_ONCE = 12
FUNDS = Decimal("500.00")
KILL_AFTER = 10
"""Answers received before the victim is killed: the load is well under way, and much of it still to come."""
ANSWERS_WHEN_BUSY = 60
"""A client keeps asking with its key while the first attempt is still held (409 REQUEST_IN_PROGRESS)."""


@dataclass(frozen=True)
class Order:
    sender: int
    recipient: int
    key: str
    amount: Decimal


@dataclass
class People:
    users: list[dict]
    headers: list[dict]


async def customers(http: httpx.AsyncClient, cluster: Cluster, count: int, funds: Decimal) -> People:
    made = [await auth_headers(http) for _ in range(count)]
    for user, _ in made:
        await fund(cluster.db, user["id"], funds)
    return People([u for u, _ in made], [h for _, h in made])


def orders() -> list[Order]:
    """Amounts that differ (R$ 1.01 to 1.07), so a transfer applied twice could not hide in a total."""
    return [
        Order(s, n % 2, uuid.uuid4().hex, Decimal("1.00") + Decimal(n % 7 + 1) / 100)
        for s in range(SENDERS)
        for n in range(TRANSFERS_EACH)
    ]


async def send(http: httpx.AsyncClient, senders: People, recipients: People, order: Order) -> httpx.Response:
    """What a careful client does: the same key until the answer is final."""
    body = {"recipientUserId": recipients.users[order.recipient]["id"], "amount": float(order.amount)}
    headers = {**senders.headers[order.sender], "Idempotency-Key": order.key}
    for _ in range(ANSWERS_WHEN_BUSY):
        answer = await http.post("/api/transfers/p2p", json=body, headers=headers)
        if answer.status_code != 409 or answer.json()["error"] != "REQUEST_IN_PROGRESS":
            return answer
        await asyncio.sleep(0.5)
    return answer


async def load_with_a_kill(
    cluster: Cluster, http: httpx.AsyncClient, victim: int
) -> tuple[People, People, list[Order], list[httpx.Response]]:
    """Send every order, at most `AT_ONCE` at a time; kill instance `victim` once `KILL_AFTER` answers are
    in and a request is in flight on it."""
    senders = await customers(http, cluster, SENDERS, FUNDS)
    recipients = await customers(http, cluster, 2, Decimal(0))
    planned = orders()
    gate = asyncio.Semaphore(AT_ONCE)
    answered = 0

    async def one(order: Order) -> httpx.Response:
        nonlocal answered
        async with gate:
            answer = await send(http, senders, recipients, order)
            answered += 1
            return answer

    async def kill() -> None:
        await eventually(lambda: answered >= KILL_AFTER and cluster.proxy.in_flight[victim] > 0, seconds=120)
        cluster.apis[victim].process.kill()

    killer = asyncio.create_task(kill())
    answers = await asyncio.gather(*(one(o) for o in planned))
    await killer
    await cluster.apis[victim].process.wait()
    return senders, recipients, planned, list(answers)


async def check_transfers_survive_a_killed_instance(cluster: Cluster, http: httpx.AsyncClient) -> None:
    victim = len(cluster.apis) - 1
    senders, recipients, planned, answers = await load_with_a_kill(cluster, http, victim)

    assert cluster.apis[victim].process.returncode == -9
    assert cluster.proxy.failed_attempts > 0  # requests did fail on the dead instance and were sent again
    assert [a.status_code for a in answers] == [201] * len(planned), [
        a.text for a in answers if a.status_code != 201
    ]
    answered_ids = [a.json()["id"] for a in answers]
    assert len(set(answered_ids)) == len(planned)  # one transfer per key

    sender_ids = [u["id"] for u in senders.users]
    async with cluster.db.engine.connect() as conn:
        stored = (
            await conn.execute(
                text(
                    "SELECT id::text AS id, user_id::text AS sender, amount_cents FROM transfers"
                    " WHERE user_id = ANY(CAST(:senders AS uuid[]))"
                ),
                {"senders": sender_ids},
            )
        ).all()
    assert sorted(r.id for r in stored) == sorted(answered_ids)  # every 2xx's transfer, each exactly once
    by_id = {a.json()["id"]: o for a, o in zip(answers, planned, strict=True)}
    assert all(
        r.amount_cents == int(by_id[r.id].amount * 100) and r.sender == sender_ids[by_id[r.id].sender]
        for r in stored
    )

    held = (
        [await balance(http, h) for h in senders.headers],
        [await balance(http, h) for h in recipients.headers],
    )
    assert held[0] == [FUNDS - sum(o.amount for o in planned if o.sender == i) for i in range(SENDERS)]
    assert held[1] == [sum(o.amount for o in planned if o.recipient == i) for i in range(2)]
    assert sum(held[0]) + sum(held[1]) == FUNDS * SENDERS  # money moved, none made or lost

    replays = [await send(http, senders, recipients, o) for o in planned[:: TRANSFERS_EACH // 2]]
    assert all(r.status_code == 201 and r.headers.get("Idempotent-Replayed") == "true" for r in replays)
    assert [r.json()["id"] for r in replays] == answered_ids[:: TRANSFERS_EACH // 2]
    assert await cluster.scalar(
        "SELECT count(*) FROM transfers WHERE user_id = ANY(CAST(:s AS uuid[]))", s=sender_ids
    ) == len(planned)
