"""The bank's ledger codes are one rule in two languages: `bank_ledger_code` / `bank_pix_clearing_code`
(laura/bank/accounts/sql/ledger_codes.sql) give what `laura.bank.accounts.service` gives, and name the
accounts the chart and account opening create."""

from __future__ import annotations

import uuid

from laura.bank.accounts.service import DEPOSITS, PIX_CLEARING, ledger_code
from tests.helpers import auth_headers
from tests.sql_support import rows, scalar


async def test_sql_and_python_name_the_same_accounts(app, client) -> None:
    db = app.state.db
    user, _ = await auth_headers(client)
    others = [uuid.uuid4() for _ in range(5)]

    assert await scalar(db, "SELECT bank_pix_clearing_code()") == PIX_CLEARING
    assert await rows(
        db, "SELECT bank_ledger_code(u) FROM unnest($1::uuid[]) WITH ORDINALITY AS t(u, n) ORDER BY n", others
    ) == [(ledger_code(u),) for u in others]
    assert ledger_code(others[0]).startswith(f"{DEPOSITS}.")
    opened = await rows(
        db,
        "SELECT code, bank_ledger_code($1) FROM ledger_accounts WHERE owner_id = $1",
        uuid.UUID(user["id"]),
    )
    assert opened == [(ledger_code(user["id"]), ledger_code(user["id"]))]
    assert (
        await scalar(db, "SELECT type FROM ledger_accounts WHERE code = bank_pix_clearing_code()") == "ASSET"
    )
