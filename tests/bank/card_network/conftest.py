"""Card network tests: the app with a processor key configured."""

from __future__ import annotations

import pytest

from laura.settings import Settings

API_KEY = "test-network-key-1"
OTHER_KEY = "test-network-key-2"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"card_network_api_keys": [API_KEY, OTHER_KEY]})
