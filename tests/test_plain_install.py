"""`pip install laura` without extras, then `laura up`: every route that queues a job answers 201.

The platform runs in a child process where every package outside the runtime dependencies of
pyproject.toml (redis, the test tools) is made unimportable by `tests/no_extras/sitecustomize.py`, so the
test sees what a plain install sees even though this venv has the test extras. It drives an external Pix
(through the PSP sandbox `laura up` starts), a TED, a scheduled boleto and a ride request, checks their jobs
were queued, and waits for the worker to complete the Pix at the sandbox.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tomllib
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from importlib import metadata

import httpx
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from sqlalchemy import text

from laura.bank.bills.barcode import build_bank_line
from laura.bank.bills.service import PAY_TASK
from laura.bank.seed import fund_customer
from laura.bank.transfers.calendar import BRASILIA
from laura.bank.transfers.ted import SETTLE_TASK
from laura.core.db import Database
from laura.identity.schemas import RegisterRequest
from laura.identity.service import create_privileged_user
from laura.mobility.rides.dispatch import OFFER_ROUND_TASK
from laura.pix.service import SUBMIT_SEND_TASK
from tests.events_support import eventually
from tests.helpers import auth_headers, login, random_cpf
from tests.mobility.support import PAULISTA, driver, passenger, request_ride
from tests.server_process import ROOT, free_port, laura_env, laura_process

BLOCKER = ROOT / "tests" / "no_extras"


def runtime_distributions() -> set[str]:
    """Every distribution a plain install brings: [project.dependencies] and theirs, extras included."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    todo = [Requirement(raw) for raw in pyproject["project"]["dependencies"]]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if (name, frozenset(requirement.extras)) in seen:
            continue
        seen.add((name, frozenset(requirement.extras)))
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for raw in requires:
            sub = Requirement(raw)
            if sub.marker is None or any(
                sub.marker.evaluate({"extra": e}) for e in {"", *requirement.extras}
            ):
                todo.append(sub)
    return {name for name, _ in seen} | {"laura"}


def optional_modules() -> set[str]:
    """Top-level modules installed here that a plain install would not have."""
    runtime = runtime_distributions()
    return {
        module
        for module, owners in metadata.packages_distributions().items()
        if not any(canonicalize_name(owner) in runtime for owner in owners)
        and module not in sys.stdlib_module_names
    }


def test_the_blocked_modules_are_the_optional_ones() -> None:
    blocked = optional_modules()
    assert {"redis", "pytest", "hypothesis"} <= blocked
    assert not {"laura", "fastapi", "procrastinate", "asyncpg", "psycopg", "uvicorn", "h3"} & blocked


def _brasilia_today():
    return datetime.now(BRASILIA).date()


async def _admin_headers(database_url: str, http: httpx.AsyncClient) -> dict:
    """An admin made the way `laura users create` does (admins cannot self-register)."""
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            await create_privileged_user(
                session, RegisterRequest(email=email, password="s3cret-passw0rd", name="Admin"), role="admin"
            )
    finally:
        await db.dispose()
    return {"Authorization": f"Bearer {(await login(http, email))['accessToken']}"}


async def _funded_customer(database_url: str, http: httpx.AsyncClient, amount: str) -> tuple[dict, dict]:
    user, headers = await auth_headers(http)
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            await fund_customer(
                session, uuid.UUID(user["id"]), Decimal(amount), reference=f"test:{uuid.uuid4()}"
            )
    finally:
        await db.dispose()
    return user, headers


async def test_a_plain_install_queues_pix_ted_boleto_and_ride_jobs(database_url, tmp_path) -> None:
    blocked = optional_modules()
    assert "redis" in blocked
    env = laura_env(
        database_url,
        tmp_path / "data",
        PYTHONPATH=os.pathsep.join([str(BLOCKER), str(ROOT)]),
        BLOCKED_IMPORTS=",".join(sorted(blocked)),
        LAURA_LOG_LEVEL="WARNING",
    )
    command = ["up", "--psp-port", str(free_port())]
    async with (
        laura_process(command, env, tmp_path / "run") as laura,
        httpx.AsyncClient(base_url=laura.url, timeout=30) as http,
    ):
        _, customer = await _funded_customer(database_url, http, "5000.00")
        pix = await http.post(
            "/api/transfers/pix",
            json={"pixKey": "someone@otherbank.example", "amount": 30.00},
            headers=customer,
        )
        ted = await http.post(
            "/api/transfers/ted",
            json={
                "bank": "001",
                "agency": "0001",
                "account": "123456-7",
                "accountType": "CHECKING",
                "amount": 100.00,
                "recipientName": "João Silva",
                "recipientDocument": random_cpf(),
            },
            headers=customer,
        )
        due = _brasilia_today() + timedelta(days=10)
        line = build_bank_line("341", Decimal("54.50"), due, f"{uuid.uuid4().int % 10**25:025d}")
        bill = await http.post(
            "/api/bills/pay",
            json={
                "barcode": line,
                "amount": 54.50,
                "paymentDate": str(_brasilia_today() + timedelta(days=3)),
            },
            headers=customer,
        )
        await driver(http, await _admin_headers(database_url, http), at=PAULISTA)
        _, rider = await passenger(http)
        ride = await request_ride(http, rider)

        answers = {"pix": pix, "ted": ted, "bill": bill, "ride": ride}
        assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 201), (
            {name: r.text for name, r in answers.items()},
            laura.output()[-5000:],
        )
        db = Database(database_url)
        try:
            async with db.engine.connect() as conn:
                queued = set((await conn.execute(text("SELECT task_name FROM procrastinate_jobs"))).scalars())
        finally:
            await db.dispose()
        assert {SUBMIT_SEND_TASK, SETTLE_TASK, PAY_TASK, OFFER_ROUND_TASK} <= queued, queued

        async def pix_completed() -> bool:
            sent = await http.get(f"/api/transfers/{pix.json()['id']}", headers=customer)
            if sent.json()["status"] == "COMPLETED":
                return True
            await asyncio.sleep(0.5)  # the worker submits it, then the sandbox's webhook completes it
            return False

        await eventually(pix_completed, seconds=90)
    assert "ModuleNotFoundError" not in laura.output(), laura.output()[-5000:]
