"""The trust score (laura/mobility/fraud/trust.py) moves with the user's flags and signals, on
GET /admin/fraud/users/{userId} and next to each flag; the weights are a pure function."""

from __future__ import annotations

import uuid

from laura.mobility.fraud.trust import TrustSignals, trust_score
from tests.mobility.fraud.conftest import FAR
from tests.mobility.fraud.support import drive, flags_of
from tests.mobility.support import IBIRAPUERA, PAULISTA, admin, driver, passenger


def test_the_weights():
    assert trust_score(TrustSignals()) == 100
    assert trust_score(TrustSignals(open_flags={"max_fare": 1})) == 85
    assert trust_score(TrustSignals(confirmed_flags={"max_fare": 1})) == 70
    assert trust_score(TrustSignals(open_flags={"collusion": 1}, suspended=True)) == 45
    assert trust_score(TrustSignals(cancellations_24h=100, refused_movements_24h=100)) == 65
    assert trust_score(TrustSignals(confirmed_flags={"collusion": 3})) == 0


async def _trust(client, admin_headers, user_id: str) -> dict:
    answer = await client.get(f"/admin/fraud/users/{user_id}", headers=admin_headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_the_score_falls_with_each_flag_stays_down_when_confirmed_and_recovers_when_cleared(
    app, client
):
    admin_headers = await admin(app, client)
    handle = await driver(client, admin_headers, at=PAULISTA)
    _, rider = await passenger(client)
    user_id = handle.user["id"]
    await drive(client, handle, rider, PAULISTA, IBIRAPUERA)
    assert (await _trust(client, admin_headers, user_id))["trustScore"] == 100

    await drive(client, handle, rider, PAULISTA, FAR)
    await drive(client, handle, rider, PAULISTA, FAR)

    trust = await _trust(client, admin_headers, user_id)
    assert (trust["userId"], trust["trustScore"], trust["openFlags"]) == (user_id, 70, 2)
    assert trust["signals"]["openFlagsByRule"] == {"max_fare": 2}
    assert trust["signals"]["suspended"] is False and trust["signals"]["refusedMovements24h"] == 0
    first, second = await flags_of(client, admin_headers, user_id)
    assert first["subjectTrustScore"] == second["subjectTrustScore"] == 70

    confirm = {"note": "no such trip", "decision": "confirmed"}
    assert (
        await client.post(f"/admin/fraud/flags/{first['id']}/resolve", json=confirm, headers=admin_headers)
    ).status_code == 200
    clear = {"note": "a real trip"}
    assert (
        await client.post(f"/admin/fraud/flags/{second['id']}/resolve", json=clear, headers=admin_headers)
    ).status_code == 200

    trust = await _trust(client, admin_headers, user_id)
    assert (trust["trustScore"], trust["openFlags"]) == (70, 0)
    assert trust["signals"]["confirmedFlagsByRule"] == {"max_fare": 1}


async def test_a_users_trust_is_for_admins_and_an_unknown_user_is_404(app, client):
    user, rider = await passenger(client)
    assert (await client.get(f"/admin/fraud/users/{user['id']}", headers=rider)).status_code == 403
    missing = await client.get(f"/admin/fraud/users/{uuid.uuid4()}", headers=await admin(app, client))
    assert (missing.status_code, missing.json()["error"]) == (404, "USER_NOT_FOUND")
