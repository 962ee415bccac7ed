"""Demo card purchases: about a month of each demo customer's card spending (supermarkets, restaurants,
ride apps, pharmacies, streaming), through the same authorization service as the network's route, so the
analytics have something to show.

Each purchase is dated across the last 30 days (`card_transactions.created_at`, what the limits and
analytics read); the ledger's hold and capture are dated when the seed runs. Most are captured, a few
voided, the last two days' left authorized. Deterministic per customer, with idempotency keys
`seed:<user>:<n>`: a rerun replays every answer and moves nothing. The money comes from equity first, as
much as the purchases cost (once per customer), so they do not eat the opening balances of
`laura.bank.seed`.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from laura.bank.accounts.cache import BalanceCache
from laura.bank.card_network import service
from laura.bank.card_network.errors import AuthorizationExpired
from laura.bank.card_network.repository import CardNetworkRepository
from laura.bank.card_network.schemas import Merchant, Purchase
from laura.bank.cards.crypto import CardMacs
from laura.bank.seed import DEMO_FUNDING, fund_customer
from laura.bank.transfers.calendar import BRASILIA
from laura.core.db import Database
from laura.core.redis_client import redis_client
from laura.core.security import load_or_create_secret
from laura.settings import Settings

DAYS = 30
HELD_DAYS = 2
"""Purchases of the last two days are still authorized (not yet captured), as a real card's are."""

# (merchant, MCC, city, lowest and highest amount in reais, purchases a month)
_ROUTINE: tuple[tuple[str, str, str, int, int, int], ...] = (
    ("Carrefour Hipermercado", "5411", "São Paulo", 90, 420, 3),
    ("Pão de Açúcar", "5411", "São Paulo", 40, 260, 3),
    ("Assaí Atacadista", "5411", "Guarulhos", 150, 480, 1),
    ("Padaria Bella Paulista", "5462", "São Paulo", 9, 38, 5),
    ("Outback Steakhouse", "5812", "São Paulo", 120, 260, 1),
    ("Coco Bambu", "5812", "São Paulo", 140, 320, 1),
    ("iFood *Restaurante", "5812", "Osasco", 35, 95, 4),
    ("McDonald's", "5814", "São Paulo", 28, 65, 2),
    ("Uber *Trip", "4121", "São Paulo", 12, 58, 6),
    ("99 *Corrida", "4121", "São Paulo", 10, 45, 3),
    ("Posto Ipiranga", "5541", "São Paulo", 120, 260, 2),
    ("Drogasil", "5912", "São Paulo", 18, 160, 2),
    ("Droga Raia", "5912", "São Paulo", 15, 120, 1),
    ("Renner", "5651", "São Paulo", 80, 300, 1),
)
_SUBSCRIPTIONS: tuple[tuple[str, str, str, Decimal], ...] = (
    ("Netflix.com", "4899", "São Paulo", Decimal("55.90")),
    ("Spotify", "5815", "São Paulo", Decimal("21.90")),
    ("Disney Plus", "4899", "São Paulo", Decimal("43.90")),
    ("Globoplay", "4899", "Rio de Janeiro", Decimal("24.90")),
)


@dataclass(frozen=True)
class _Planned:
    at: datetime
    merchant: Merchant
    amount: Decimal
    fate: str
    """capture, void or hold"""


def plan(user_id: uuid.UUID, now: datetime) -> list[_Planned]:
    """The customer's month of purchases, oldest first; the same customer gets the same merchants and
    amounts on every run (their dates follow `now`)."""
    rng = random.Random(user_id.int)
    chosen: list[tuple[int, Merchant, Decimal]] = []
    for name, mcc, city, low, high, count in _ROUTINE:
        for _ in range(count):
            cents = rng.randint(low * 100, high * 100)
            day = rng.randrange(DAYS)
            chosen.append((day, Merchant(name=name, mcc=mcc, city=city, country="BR"), Decimal(cents) / 100))
    for name, mcc, city, price in rng.sample(_SUBSCRIPTIONS, k=2):
        chosen.append((rng.randrange(DAYS), Merchant(name=name, mcc=mcc, city=city, country="BR"), price))
    today = now.astimezone(BRASILIA).replace(hour=0, minute=0, second=0, microsecond=0)
    planned = []
    for day, merchant, amount in chosen:
        at = today - timedelta(days=day) + timedelta(minutes=rng.randint(8 * 60, 22 * 60))
        at = min(at.astimezone(UTC), now - timedelta(minutes=1))
        fate = "hold" if day < HELD_DAYS else ("void" if rng.random() < 0.05 else "capture")
        planned.append(_Planned(at, merchant, amount.quantize(Decimal("0.01")), fate))
    return sorted(planned, key=lambda p: p.at)


async def seed_card_purchases(settings: Settings, *, now: datetime | None = None) -> int:
    """Each demo customer's month of purchases on their active physical card (none yet: skipped); returns
    how many authorizations were answered."""
    now = now or datetime.now(UTC)
    db = Database(settings.required_database_url)
    redis = redis_client(settings.redis_url)
    cache = BalanceCache(redis)
    master_key = load_or_create_secret(settings.secret_key, settings.secret_key_path)
    network = service.Network(CardMacs(master_key), settings.card_authorization_hold_days * 86400)
    answered = 0
    try:
        for email in DEMO_FUNDING:
            async with db.unit_of_work() as session:
                card = await CardNetworkRepository(session).demo_card(email)
            if card is None:
                continue
            user_id, number_hash, expiry = card
            purchases = plan(user_id, now)
            async with db.unit_of_work() as session:
                total = sum((p.amount for p in purchases), Decimal(0))
                await fund_customer(session, user_id, total, reference=f"seed:card-funding:{user_id}")
            for n, planned in enumerate(purchases, start=1):
                purchase = Purchase(
                    expiry=expiry,
                    amount=planned.amount,
                    currency="BRL",
                    merchant=planned.merchant,
                    idempotency_key=f"seed:{user_id}:{n}",
                )
                answer = await service.decide(
                    db, network, purchase, number_hash, None, cache=cache, now=planned.at
                )
                answered += 1
                if answer.approved and planned.fate != "hold":
                    await _settle(db, cache, answer.authorization_id, planned.fate)
    finally:
        if redis is not None:
            await redis.aclose()
        await db.dispose()
    return answered


async def _settle(db: Database, cache: BalanceCache, authorization_id: uuid.UUID, fate: str) -> None:
    """Capture or void an approved purchase (again on a rerun: each answers what it did the first time)."""
    try:
        async with db.unit_of_work() as session:
            if fate == "capture":
                await service.capture(session, authorization_id, None, cache=cache)
            else:
                await service.void(session, authorization_id, cache=cache)
    except AuthorizationExpired:
        pass  # a purchase left uncaptured past the hold's timeout (a rerun days later): released instead
