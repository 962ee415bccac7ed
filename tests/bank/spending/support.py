"""Spending test helpers: money spent over HTTP the three ways the spending layer counts (a captured card
purchase, a paid bill, an outgoing transfer), a row moved to the instant a test needs, and the layer read."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import httpx

from laura.bank.bills.barcode import build_bank_line
from laura.bank.spending import query
from laura.bank.spending.windows import Window
from laura.bank.transfers.calendar import BRASILIA
from laura.core.db import execute
from tests.bank.card_network.support import IssuedCard, authorize, change, purchase

MCC = {
    "FOOD": "5411",
    "TRANSPORT": "4121",
    "HEALTH": "5912",
    "SHOPPING": "5651",
    "LEISURE": "7832",
    "TRAVEL": "7011",
    "EDUCATION": "8220",
    "BILLS": "4900",
    "OTHER": "6011",
}
_TIME_COLUMNS = {"card_transactions": "created_at", "bill_payments": "paid_at", "transfers": "completed_at"}


async def bought(
    client: httpx.AsyncClient,
    card: IssuedCard,
    amount: str,
    *,
    category: str = "FOOD",
    merchant: str = "Padaria Real",
    refund: str | None = None,
) -> str:
    """Authorize and capture a purchase in `category` (by a MCC of it), refunding `refund` of it; its id."""
    merchant_data = {"name": merchant, "mcc": MCC[category], "city": "São Paulo", "country": "BR"}
    answer = await authorize(client, purchase(card, amount, merchant=merchant_data))
    assert answer["approved"] is True, answer
    auth = answer["authorizationId"]
    captured = await change(client, auth, "capture")
    assert captured.status_code == 200, captured.text
    if refund is not None:
        refunded = await change(client, auth, "refund", {"amount": float(refund)})
        assert refunded.status_code == 200, refunded.text
    return auth


async def paid_bill(client: httpx.AsyncClient, headers: dict, amount: str) -> str:
    """Pay a bank slip now; the payment's id."""
    due = datetime.now(BRASILIA).date() + timedelta(days=10)
    line = build_bank_line("341", Decimal(amount), due, f"{uuid.uuid4().int % 10**25:025d}")
    paid = await client.post(
        "/api/bills/pay", json={"barcode": line, "amount": float(amount)}, headers=headers
    )
    assert paid.status_code == 201, paid.text
    return paid.json()["id"]


async def sent(client: httpx.AsyncClient, headers: dict, recipient_id: str, amount: str) -> str:
    """A P2P transfer to `recipient_id`; its id."""
    response = await client.post(
        "/api/transfers/p2p", json={"recipientUserId": recipient_id, "amount": float(amount)}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def moved(app, table: str, row_id: str, when: datetime) -> None:
    """Set the instant the spending layer reads from the row (a purchase made, a bill paid, a transfer
    completed at `when`): a test's way to stand on a day boundary."""
    async with app.state.db.unit_of_work() as session:
        await execute(
            session, f"UPDATE {table} SET {_TIME_COLUMNS[table]} = $2 WHERE id = $1", uuid.UUID(row_id), when
        )


async def by_category(app, user_id: str, window: Window) -> dict[str, tuple[int, int]]:
    """{category: (cents, count)} the layer answers for the customer."""
    async with app.state.db.sessionmaker() as session:
        found = await query.spending_by_category(session, uuid.UUID(user_id), window)
    return {str(s.category): (s.spent_cents, s.count) for s in found}


async def by_day(app, user_id: str, window: Window) -> list[tuple[str, int]]:
    async with app.state.db.sessionmaker() as session:
        found = await query.spending_by_day(session, uuid.UUID(user_id), window)
    return [(day.isoformat(), cents) for day, cents in found]
