"""With no processor key configured, the card network's routes refuse everyone."""

from __future__ import annotations

import pytest

from laura.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"card_network_api_keys": []})


@pytest.mark.parametrize("key", [None, "", "anything"])
async def test_no_configured_key_refuses_every_caller(client, key) -> None:
    headers = {} if key is None else {"X-Api-Key": key}
    for path in ("/api/card-network/authorizations", f"/api/card-network/authorizations/{'0' * 32}/void"):
        response = await client.post(path, json={}, headers=headers)
        assert response.status_code == 401 and response.json()["error"] == "INVALID_API_KEY"
