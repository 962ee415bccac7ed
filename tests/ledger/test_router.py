"""Admin ledger routes: customers are refused, admins get accounts, statements and the trial balance."""

from __future__ import annotations

from laura.ledger import service as ledger
from tests.helpers import auth_headers, staff_headers


async def _seed(app) -> str:
    code = "2101.router-test"
    async with app.state.db.unit_of_work() as session:
        await ledger.open_account(
            session, code=code, name="Cliente", type="LIABILITY", debits_must_not_exceed_credits=True
        )
        await ledger.post(
            session, [("3100", "D", 15_050), (code, "C", 15_050)], reference="seed", reason="funding"
        )
        for i in range(3):
            await ledger.post(
                session,
                [(code, "D", 1_000), ("4300", "C", 1_000)],
                reference=f"fee{i}",
                reason="FEE",
                description="Tarifa",
            )
    return code


async def test_customers_cannot_read_the_ledger(client):
    _, headers = await auth_headers(client)
    for path in (
        "/admin/ledger/accounts",
        "/admin/ledger/accounts/3100/entries",
        "/admin/ledger/trial-balance",
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 403, path
        assert response.json()["error"] == "FORBIDDEN"
    assert (await client.get("/admin/ledger/accounts")).status_code == 401


async def test_admin_lists_accounts_with_balances_in_reais(app, client):
    code = await _seed(app)
    headers = await staff_headers(app, client)
    response = await client.get("/admin/ledger/accounts", params={"limit": 100}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    accounts = {a["code"]: a for a in body["data"]}
    assert body["pagination"]["total"] == len(accounts) >= 13
    customer = accounts[code]
    assert customer["type"] == "LIABILITY" and customer["debitsMustNotExceedCredits"] is True
    assert (customer["creditsPosted"], customer["debitsPosted"]) == (150.5, 30.0)
    assert (customer["balance"], customer["available"], customer["pending"]) == (120.5, 120.5, 0)
    assert accounts["4300"]["hot"] is True and accounts["4300"]["balance"] == 30.0
    page = await client.get("/admin/ledger/accounts", params={"limit": 2, "page": 2}, headers=headers)
    assert [a["code"] for a in page.json()["data"]] == sorted(accounts)[2:4]


async def test_admin_pages_an_account_statement_by_cursor(app, client):
    code = await _seed(app)
    headers = await staff_headers(app, client)
    first = await client.get(f"/admin/ledger/accounts/{code}/entries", params={"limit": 2}, headers=headers)
    assert first.status_code == 200
    body = first.json()
    assert [row["reference"] for row in body["data"]] == ["fee2", "fee1"]
    assert [row["balance"] for row in body["data"]] == [120.5, 130.5]
    assert body["data"][0]["amount"] == 10.0 and body["data"][0]["direction"] == "D"
    assert body["pagination"]["total"] == 4 and body["pagination"]["nextCursor"]
    rest = await client.get(
        f"/admin/ledger/accounts/{code}/entries",
        params={"limit": 2, "cursor": body["pagination"]["nextCursor"]},
        headers=headers,
    )
    assert [row["reference"] for row in rest.json()["data"]] == ["fee0", "seed"]
    assert rest.json()["pagination"]["nextCursor"] is None and rest.json()["pagination"]["hasMore"] is False
    missing = await client.get("/admin/ledger/accounts/9999/entries", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"] == "ACCOUNT_NOT_FOUND"


async def test_admin_reads_a_balanced_trial_balance(app, client):
    await _seed(app)
    headers = await staff_headers(app, client)
    response = await client.get("/admin/ledger/trial-balance", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["balanced"] is True and body["totalDebits"] == body["totalCredits"] == 150.5
    lines = {line["code"]: line for line in body["accounts"]}
    assert (lines["3100"]["debit"], lines["3100"]["credit"]) == (150.5, 0)
    assert (lines["4300"]["debit"], lines["4300"]["credit"]) == (0, 30.0)
