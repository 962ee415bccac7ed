"""Receiving by Pix through the web pages, against the PSP sandbox: a charge made once per form (whatever
the clicks), its QR as an image and its copia-e-cola as selectable text, someone else's charge 404, and
once the sandbox pays it, the page's status fragment reads "paid" and the balance holds the amount."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
from sqlalchemy import text

from tests.bank.support import balance, funded_customer
from tests.pix.conftest import db, live_url, settings, webhook_registered  # noqa: F401 - sandbox-backed fixtures
from tests.pix.sandbox.fixtures import control, sandbox_server, sandbox_url, wait_until  # noqa: F401
from tests.web.support import browser, hidden, sign_in


async def test_a_charge_is_shown_with_its_qr_and_paid_in_the_sandbox(
    app, client, control: httpx.AsyncClient, webhook_registered: str
) -> None:
    customer, headers = await funded_customer(app, client)
    other, _ = await funded_customer(app, client)
    async with browser(app) as http:
        await sign_in(http, customer["email"])
        page = (await http.get("/pix/receive")).text
        form = {"csrftoken": hidden(page, "csrftoken"), "idempotency_key": hidden(page, "idempotency_key")}
        first, second = await asyncio.gather(
            http.post("/pix/receive", data={**form, "amount": "42,10"}),
            http.post("/pix/receive", data={**form, "amount": "42,10"}),
        )
        assert first.status_code == second.status_code == 303, (first.text, second.text)
        assert first.headers["location"] == second.headers["location"]
        txid = first.headers["location"].rsplit("/", 1)[1]
        async with app.state.db.engine.connect() as conn:
            charges = await conn.scalar(
                text("SELECT count(*) FROM pix_charges WHERE owner_id = :u"), {"u": customer["id"]}
            )
        assert charges == 1
        charge = (await http.get(first.headers["location"])).text
        assert 'src="data:image/png;base64,' in charge and "Cobrança Pix de R$\xa042,10" in charge
        assert 'data-testid="copia-e-cola">000201' in charge and "Aguardando pagamento" in charge

        (await control.post(f"/sandbox/cob/{txid}/pay")).raise_for_status()

        async def paid() -> bool:
            status = await http.get(f"/pix/receive/{txid}/status", headers={"HX-Request": "true"})
            return "Paga" in status.text

        await wait_until(paid)
    assert await balance(client, headers) == Decimal("42.10")
    async with browser(app) as stranger:
        await sign_in(stranger, other["email"])
        assert (await stranger.get(f"/pix/receive/{txid}")).status_code == 404
        assert (await stranger.get(f"/pix/receive/{txid}/status")).status_code == 404
