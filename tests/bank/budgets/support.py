"""Budget test helpers: budgets over HTTP, card purchases through the card network, the checks run by a
real worker, and the alerts read back from the outbox."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import httpx

from laura.bank.bills.barcode import build_bank_line
from laura.bank.transfers.calendar import brasilia_day
from laura.core.models import utcnow
from tests.bank.card_network.support import IssuedCard, authorize, change, make_card, purchase
from tests.bank.support import funded_customer
from tests.jobs_support import running_worker
from tests.sql_support import rows, scalar

FOOD = {"name": "Restaurante Sabor", "mcc": "5812", "city": "São Paulo", "country": "BR"}


async def create(client: httpx.AsyncClient, headers: dict, **body) -> httpx.Response:
    return await client.post(
        "/api/budgets",
        json={"category": "FOOD", "limit": 500.00, "period": "MONTHLY", **body},
        headers=headers,
    )


async def created(client: httpx.AsyncClient, headers: dict, **body) -> dict:
    response = await create(client, headers, **body)
    assert response.status_code == 201, response.text
    return response.json()


async def customer_with_card(
    app, client: httpx.AsyncClient, balance: str = "5000.00"
) -> tuple[dict, dict, IssuedCard]:
    user, headers = await funded_customer(app, client, balance)
    return user, headers, await make_card(app, user["id"])


async def buy(client: httpx.AsyncClient, card: IssuedCard, amount: str, merchant: dict = FOOD) -> str:
    """An approved and captured purchase; its authorization id."""
    answer = await authorize(client, purchase(card, amount, merchant=merchant))
    assert answer["approved"] is True, answer
    captured = await change(client, answer["authorizationId"], "capture")
    assert captured.status_code == 200, captured.text
    return answer["authorizationId"]


async def summary(client: httpx.AsyncClient, headers: dict) -> dict:
    response = await client.get("/api/budgets/summary", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def pending_checks(app) -> int:
    return await scalar(
        app.state.db,
        "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'bank.budgets_check'"
        " AND status IN ('todo', 'doing')",
    )


async def run_checks(app, settings) -> None:
    """Let a real worker run every waiting budget check."""
    async with running_worker(settings) as worker:

        async def done() -> bool:
            return await pending_checks(app) == 0

        await worker.until(done)


async def alerts(app, user_id: str | uuid.UUID | None = None) -> list[dict]:
    """The `budget.threshold_reached` events in the outbox, oldest first (of one customer, if given)."""
    found = await rows(
        app.state.db, "SELECT data, user_ids FROM outbox WHERE type = 'budget.threshold_reached' ORDER BY id"
    )
    wanted = None if user_id is None else str(user_id)
    return [data for data, users in found if wanted is None or wanted in [str(u) for u in users]]


def bill_line(amount: str) -> str:
    """A bank slip's digitable line for `amount`, due in ten days."""
    free = f"{uuid.uuid4().int % 10**25:025d}"
    return build_bank_line("341", Decimal(amount), brasilia_day(utcnow()) + timedelta(days=10), free)
