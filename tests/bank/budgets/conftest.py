"""Budget tests: the app with the card network's key, so purchases go through its endpoint."""

from __future__ import annotations

import pytest

from laura.settings import Settings
from tests.bank.card_network.conftest import API_KEY, OTHER_KEY


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"card_network_api_keys": [API_KEY, OTHER_KEY]})
