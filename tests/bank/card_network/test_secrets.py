"""A card's number and CVV and the processor key never reach a log line, and the number never reaches a
row or an event the card network's routes write."""

from __future__ import annotations

import pytest

from laura.settings import Settings
from tests.bank.card_network.conftest import API_KEY
from tests.bank.card_network.support import authorize, change, make_card, purchase
from tests.bank.support import funded_customer
from tests.sql_support import rows


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"log_level": "DEBUG", "access_log": True})


async def test_no_number_cvv_or_key_in_logs_rows_or_events(app, client, capsys) -> None:
    user, _ = await funded_customer(app, client, "100.00")
    card = await make_card(app, user["id"])
    approved = await authorize(client, purchase(card, "40.00"))
    await authorize(client, purchase(card, "10.00", cvv="999" if card.cvv != "999" else "998"))
    await client.post("/api/card-network/authorizations", json=purchase(card, "1", cardNumber="12ab"))
    await change(client, approved["authorizationId"], "capture")
    await change(client, approved["authorizationId"], "refund", {"amount": 5.00})

    written = await rows(
        app.state.db,
        "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM card_transactions) t"
        " UNION ALL SELECT string_agg(o::text, ' ') FROM outbox o"
        " UNION ALL SELECT string_agg(l::text, ' ') FROM ledger_transactions l"
        " UNION ALL SELECT string_agg(a::text, ' ') FROM audit_logs a",
    )
    logged = capsys.readouterr()
    for text in [*(row[0] or "" for row in written), logged.out, logged.err]:
        assert card.number not in text
        assert API_KEY not in text
    assert f'"cvv": "{card.cvv}"' not in logged.out + logged.err
    assert "request" in logged.out  # the log was captured
