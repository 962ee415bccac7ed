"""Demo data for `laura up --demo`: a few customers, a staff user, an admin, drivers (one still waiting for
approval) and passengers, and a history for each screen: opening balances, a month of card purchases,
transfers between the customers, budgets, support tickets, and an anti-fraud flag for the console.

Idempotent: running it again leaves existing users alone and adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from laura.app import TASK_MODULES
from laura.bank.card_network.seed import seed_card_purchases
from laura.bank.cards.issuer import open_issuer
from laura.bank.history_seed import seed_history
from laura.bank.seed import seed_bank
from laura.core.db import Database
from laura.core.jobs import register_task_modules
from laura.identity.repository import IdentityRepository
from laura.identity.schemas import RegisterRequest
from laura.identity.service import AuthPolicy, IdentityService, create_privileged_user, normalize_email
from laura.mobility.seed import seed_mobility, seed_review_items
from laura.settings import Settings

DEMO_PASSWORD = "laura-demo-2026"


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: str
    cpf: str | None = None
    phone: str | None = None


DEMO_USERS = [
    DemoUser("ana@laura.dev", "Ana Souza", "customer", "52998224725", "+5511987650001"),
    DemoUser("bruno@laura.dev", "Bruno Lima", "customer", "11144477735", "+5511987650002"),
    DemoUser("carla@laura.dev", "Carla Dias", "customer", "39053344705", "+5521987650003"),
    DemoUser("paula@laura.dev", "Paula Nunes", "passenger", "71428793860", "+5511987650004"),
    DemoUser("pedro@laura.dev", "Pedro Alves", "passenger", "86288366757", "+5511987650005"),
    DemoUser("diego@laura.dev", "Diego Rocha", "driver", "45317828791", "+5511987650006"),
    DemoUser("duda@laura.dev", "Eduarda Melo", "driver", "32564176801", "+5511987650007"),
    DemoUser("rafa@laura.dev", "Rafael Costa", "driver", "28471936500", "+5511987650008"),
    DemoUser("staff@laura.dev", "Sandra Staff", "staff"),
    DemoUser("admin@laura.dev", "Alice Admin", "admin"),
]


async def seed_demo(settings: Settings) -> list[DemoUser]:
    """Create the demo users that do not exist yet; returns every demo user (for printing logins)."""
    register_task_modules(TASK_MODULES)  # the services defer jobs by name (`laura up` seeds before any app)
    db = Database(settings.required_database_url)
    policy = AuthPolicy(
        access_ttl_seconds=settings.access_token_ttl_seconds,
        refresh_ttl_seconds=settings.refresh_token_ttl_seconds,
        password_min_length=settings.password_min_length,
        login_limit=settings.rate_limit_login,
    )
    try:
        await open_issuer(db, settings)  # a customer's registration issues their debit card
        for demo in DEMO_USERS:
            async with db.unit_of_work() as session:
                if await IdentityRepository(session).user_by_email(normalize_email(demo.email)):
                    continue
                request = RegisterRequest(
                    email=demo.email,
                    password=DEMO_PASSWORD,
                    name=demo.name,
                    cpf=demo.cpf,
                    phone=demo.phone,
                    user_type=demo.role if demo.role in ("customer", "passenger", "driver") else "customer",
                )
                if demo.role in ("staff", "admin"):
                    await create_privileged_user(session, request, role=demo.role)
                else:
                    await IdentityService(session, policy=policy).register(request)
    finally:
        await db.dispose()
    await seed_bank(settings)
    await seed_card_purchases(settings)
    await seed_history(settings)
    await seed_mobility(settings)
    await seed_review_items(settings)
    return DEMO_USERS


def print_logins(users: list[DemoUser]) -> None:
    """The demo accounts as a table on the terminal."""
    table = Table(title=f"Demo logins (password: {DEMO_PASSWORD})")
    for column in ("e-mail", "role", "name"):
        table.add_column(column)
    for user in users:
        table.add_row(user.email, user.role, user.name)
    Console().print(table)
