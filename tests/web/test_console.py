"""The operations console over HTTP: who may open it (others get 404), the trial balance as the ledger has
it, a driver approved or rejected through its forms, and a form post without its CSRF token refused."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

from laura.identity.schemas import RegisterRequest
from laura.identity.service import create_privileged_user
from tests.bank.support import funded_customer
from tests.helpers import auth_headers
from tests.mobility.support import admin as admin_headers
from tests.mobility.support import driver
from tests.web.support import browser, csrf, form_post, sign_in


async def console_user(app, role: str = "admin") -> str:
    """A staff or admin user (they cannot sign up), made the way the CLI makes them; returns the e-mail."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    async with app.state.db.unit_of_work() as session:
        await create_privileged_user(
            session, RegisterRequest(email=email, password="s3cret-passw0rd", name=f"Ops {role}"), role=role
        )
    return email


def _money(text: str) -> Decimal:
    """`R$ 1.234,56` (pt-BR) as a Decimal."""
    return Decimal(text.replace("R$", "").replace("\xa0", "").replace(".", "").replace(",", ".").strip())


async def test_a_customer_gets_not_found_on_every_console_page(app, client) -> None:
    customer, _ = await auth_headers(client)
    async with browser(app) as http:
        await sign_in(http, customer["email"])
        for path in ("/ops", "/ops/drivers", "/ops/ledger", "/ops/ledger/accounts/3100"):
            response = await http.get(path)
            assert response.status_code == 404, path
            assert "Página não encontrada" in response.text
        home = await http.get("/")
        assert 'href="/ops"' not in home.text
    async with browser(app) as visitor:
        response = await visitor.get("/ops/ledger")
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_staff_see_the_support_desk_only_and_admins_every_section(app) -> None:
    async with browser(app) as http:
        await sign_in(http, await console_user(app, "staff"))
        overview = await http.get("/ops")
        assert overview.status_code == 200
        assert 'href="/ops/drivers"' not in overview.text
        assert (await http.get("/ops/ledger")).status_code == 404  # the API's admin routes refuse staff too
    async with browser(app) as http:
        await sign_in(http, await console_user(app, "admin"))
        overview = await http.get("/ops")
        assert 'href="/ops/drivers"' in overview.text and 'href="/ops/ledger"' in overview.text


async def test_the_trial_balance_shows_the_ledgers_totals(app, client) -> None:
    await funded_customer(app, client, "1234.56")
    admin = await admin_headers(app, client)
    ledger = (await client.get("/admin/ledger/trial-balance", headers=admin)).json()
    assert ledger["balanced"] and Decimal(str(ledger["totalDebits"])) >= Decimal("1234.56")
    async with browser(app) as http:
        await sign_in(http, await console_user(app))
        page = await http.get("/ops/ledger")
        assert page.status_code == 200
        debits = re.search(r'data-testid="total-debits">([^<]+)<', page.text)
        credits = re.search(r'data-testid="total-credits">([^<]+)<', page.text)
        assert debits and credits
        assert _money(debits.group(1)) == _money(credits.group(1)) == Decimal(str(ledger["totalDebits"]))
        for line in ledger["accounts"]:
            assert f'href="/ops/ledger/accounts/{line["code"]}"' in page.text
        equity = await http.get("/ops/ledger/accounts/3100")
        assert equity.status_code == 200
        assert "R$\xa01.234,56" in equity.text
        assert (await http.get("/ops/ledger/accounts/9999.nothing")).status_code == 404
        assert (await http.get("/ops/ledger/accounts/3100?cursor=garbage")).status_code == 200


async def test_a_driver_approved_in_the_console_is_approved(app, client) -> None:
    admin = await admin_headers(app, client)
    pending = await driver(client, admin, approve=False, online=False, at=None)
    rejected = await driver(client, admin, approve=False, online=False, at=None)
    async with browser(app) as http:
        await sign_in(http, await console_user(app))
        queue = await http.get("/ops/drivers")
        assert pending.id in queue.text and rejected.id in queue.text
        token = csrf(queue.text)
        approved = await http.post(f"/ops/drivers/{pending.id}/approve", data={"csrftoken": token})
        assert approved.status_code == 303 and approved.headers["location"] == "/ops/drivers?done=approved"
        again = await http.post(f"/ops/drivers/{pending.id}/approve", data={"csrftoken": token})
        assert again.headers["location"] == "/ops/drivers?done=reviewed"  # a double click changes nothing
        short = await form_post(
            http, f"/ops/drivers/{rejected.id}/reject", f"/ops/drivers/{rejected.id}/reject", {"reason": "x"}
        )
        assert short.status_code == 422 and 'id="reason-error"' in short.text
        done = await form_post(
            http,
            f"/ops/drivers/{rejected.id}/reject",
            f"/ops/drivers/{rejected.id}/reject",
            {"reason": "CNH ilegível"},
        )
        assert done.status_code == 303
        assert (await http.get(f"/ops/drivers/{uuid.uuid4()}/reject")).status_code == 404
    me = (await client.get("/drivers/me", headers=pending.headers)).json()
    assert me["approvalStatus"] == "APPROVED"
    other = (await client.get("/drivers/me", headers=rejected.headers)).json()
    assert other["approvalStatus"] == "REJECTED" and other["rejectionReason"] == "CNH ilegível"
    went = await client.post(f"/drivers/{pending.id}/online", json={"online": True}, headers=pending.headers)
    assert went.status_code == 200


async def test_a_console_post_without_its_csrf_token_is_refused(app, client) -> None:
    admin = await admin_headers(app, client)
    pending = await driver(client, admin, approve=False, online=False, at=None)
    async with browser(app) as http:
        await sign_in(http, await console_user(app))
        await http.get("/ops/drivers")
        refused = await http.post(f"/ops/drivers/{pending.id}/approve", data={})
        assert refused.status_code == 403
    me = (await client.get("/drivers/me", headers=pending.headers)).json()
    assert me["approvalStatus"] == "PENDING_APPROVAL"


async def test_a_customer_cannot_approve_a_driver_through_the_console(app, client) -> None:
    admin = await admin_headers(app, client)
    pending = await driver(client, admin, approve=False, online=False, at=None)
    customer, _ = await auth_headers(client)
    async with browser(app) as http:
        await sign_in(http, customer["email"])
        home = await http.get("/")
        response = await http.post(f"/ops/drivers/{pending.id}/approve", data={"csrftoken": csrf(home.text)})
        assert response.status_code == 404
    me = (await client.get("/drivers/me", headers=pending.headers)).json()
    assert me["approvalStatus"] == "PENDING_APPROVAL"


async def test_the_home_of_staff_and_admins_is_the_console(app) -> None:
    async with browser(app) as http:
        await sign_in(http, await console_user(app, "staff"))
        home = await http.get("/")
        assert home.status_code == 303 and home.headers["location"] == "/ops"
