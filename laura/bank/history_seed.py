"""Demo history for the bank's screens: P2P transfers between the demo customers (some tagged with the
spending category they were for), budgets, and two support tickets, one already answered by staff.

Everything goes through the services the API calls: a transfer is `transfers.service.send_p2p` (limits,
ledger posting, audit row and event, in its one statement) under a session the seed opens for the sender
and ends when it is done (`identity.seed_sessions`). The ledger and `bank_p2p_send` take no clock
(PostgreSQL's `now()` dates every entry, and entries are immutable), so transfers are dated when the seed
runs; tickets take the service's `now` and are dated days back. The card purchases of the month are
`laura.bank.card_network.seed`'s.

Idempotent: a planned transfer is skipped when its sender already has one with its description, a budget
that exists is refused by the service (and left alone), and a customer who has tickets gets no more.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from laura.bank.accounts.cache import BalanceCache
from laura.bank.accounts.repository import AccountRepository
from laura.bank.budgets import service as budgets
from laura.bank.budgets.errors import BudgetAlreadyExists
from laura.bank.budgets.schemas import BudgetRequest
from laura.bank.spending.categories import SpendingCategory
from laura.bank.spending.windows import Period
from laura.bank.support import service as support
from laura.bank.support.models import Priority
from laura.bank.support.policy import policy_of
from laura.bank.support.schemas import MessageRequest, TicketRequest
from laura.bank.transfers import service as transfers
from laura.bank.transfers.schemas import P2PRequest
from laura.core.db import Database
from laura.core.redis_client import redis_client
from laura.identity.seed_sessions import signed_in
from laura.identity.service import Caller, Principal
from laura.settings import Settings

P2P_PLAN: tuple[tuple[str, str, str, str, SpendingCategory | None], ...] = (
    ("ana@laura.dev", "bruno@laura.dev", "45.90", "Racha do almoço", SpendingCategory.FOOD),
    ("bruno@laura.dev", "ana@laura.dev", "120.00", "Ingresso do show", None),
    ("ana@laura.dev", "carla@laura.dev", "80.00", "Presente da Júlia", SpendingCategory.SHOPPING),
    ("carla@laura.dev", "ana@laura.dev", "32.50", "Uber dividido", None),
    ("bruno@laura.dev", "carla@laura.dev", "250.00", "Aluguel da bike", None),
    ("ana@laura.dev", "bruno@laura.dev", "18.00", "Café da manhã", SpendingCategory.FOOD),
    ("carla@laura.dev", "bruno@laura.dev", "60.00", "Conta de luz (minha parte)", SpendingCategory.BILLS),
    ("ana@laura.dev", "carla@laura.dev", "150.00", "Pousada em Ilhabela", SpendingCategory.TRAVEL),
)
"""(sender, recipient, amount, description, the category the sender tags it with)."""

BUDGETS: tuple[tuple[str, SpendingCategory, str], ...] = (
    ("ana@laura.dev", SpendingCategory.FOOD, "1200.00"),
    ("ana@laura.dev", SpendingCategory.TRANSPORT, "300.00"),
    ("ana@laura.dev", SpendingCategory.LEISURE, "250.00"),
    ("bruno@laura.dev", SpendingCategory.FOOD, "800.00"),
    ("carla@laura.dev", SpendingCategory.SHOPPING, "400.00"),
)
"""Monthly budgets (customer, category, limit)."""

TICKETS: tuple[tuple[str, str, Priority, str, str, int, str | None], ...] = (
    (
        "ana@laura.dev",
        "CARD",
        Priority.MEDIUM,
        "Compra não reconhecida",
        "Apareceu uma compra no Posto Ipiranga que eu não fiz.",
        9,
        "Olá, Ana! Bloqueamos o cartão por segurança e abrimos a contestação. Avisamos por aqui.",
    ),
    (
        "bruno@laura.dev",
        "TRANSFER",
        Priority.HIGH,
        "Transferência para a Carla",
        "Mandei R$ 250,00 para a Carla e ela diz que não chegou. Podem ver?",
        2,
        None,
    ),
)
"""(customer, category, priority, subject, description, days ago, the staff's reply a day later)."""
STAFF = "staff@laura.dev"


async def _user_ids(db: Database, emails: set[str]) -> dict[str, uuid.UUID]:
    async with db.unit_of_work() as session:
        repo = AccountRepository(session)
        found = {email: await repo.user_id_by_email(email) for email in sorted(emails)}
    return {email: user_id for email, user_id in found.items() if user_id is not None}


async def seed_transfers(db: Database, settings: Settings) -> int:
    """The P2P plan, each transfer once; returns how many were sent now."""
    ids = await _user_ids(db, {p[0] for p in P2P_PLAN} | {p[1] for p in P2P_PLAN})
    limits = transfers.Limits(per_transfer=settings.transfer_max_amount, daily=settings.transfer_daily_limit)
    redis = redis_client(settings.redis_url)
    cache = BalanceCache(redis)
    sent = 0
    try:
        for sender, recipient, amount, description, category in P2P_PLAN:
            if sender not in ids or recipient not in ids:
                continue
            async with db.unit_of_work() as session:
                done, _ = await transfers.list_transfers(
                    session,
                    ids[sender],
                    status=None,
                    type="P2P",
                    sort="created_at",
                    descending=True,
                    offset=0,
                    limit=100,
                )
            if any(t.description == description for t in done):
                continue
            async with signed_in(db, ids[sender]) as session_id:
                transfer = await transfers.send_p2p(
                    db,
                    caller=Caller(id=ids[sender], role="customer", session_id=session_id),
                    data=P2PRequest(
                        recipient_user_id=ids[recipient], amount=Decimal(amount), description=description
                    ),
                    limits=limits,
                    cache=cache,
                    idempotency=None,
                )
            sent += 1
            if category is not None:
                async with db.unit_of_work() as session:
                    await transfers.categorize_transfer(session, ids[sender], transfer.id, category)
    finally:
        if redis is not None:
            await redis.aclose()
    return sent


async def seed_budgets(db: Database) -> None:
    ids = await _user_ids(db, {b[0] for b in BUDGETS})
    now = datetime.now(UTC)
    for email, category, limit in BUDGETS:
        if email not in ids:
            continue
        request = BudgetRequest(category=category, limit=Decimal(limit), period=Period.MONTHLY)
        try:
            async with db.unit_of_work() as session:
                await budgets.create(session, ids[email], request, now)
        except BudgetAlreadyExists:
            continue


async def seed_tickets(db: Database, settings: Settings) -> None:
    ids = await _user_ids(db, {t[0] for t in TICKETS} | {STAFF})
    if STAFF not in ids:
        return
    policy = policy_of(settings)
    now = datetime.now(UTC)
    for email, category, priority, subject, description, days_ago, reply in TICKETS:
        if email not in ids:
            continue
        async with db.unit_of_work() as session:
            _, total = await support.list_tickets(
                session, ids[email], status=None, priority=None, offset=0, limit=1, now=now
            )
            if total:
                continue
            opened = now - timedelta(days=days_ago)
            request = TicketRequest(
                category=category, priority=priority, subject=subject, description=description
            )
            ticket = await support.create_ticket(session, policy, ids[email], request, now=opened)
            if reply is not None:
                staff = Principal(
                    id=ids[STAFF], role="staff", email=STAFF, name="Sandra Staff", session_id=uuid.uuid4()
                )
                answered = opened + timedelta(days=1)
                await support.assign(session, staff, ticket.id, staff.id, now=answered)
                await support.add_message(
                    session, staff, ticket.id, MessageRequest(message=reply), now=answered
                )


async def seed_history(settings: Settings) -> None:
    """The bank's demo history (after `seed_bank` funded the customers)."""
    db = Database(settings.required_database_url)
    try:
        await seed_transfers(db, settings)
        await seed_budgets(db)
        await seed_tickets(db, settings)
    finally:
        await db.dispose()
