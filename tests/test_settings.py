"""Settings refuse what would be unsafe in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from laura.settings import DEFAULT_WEBHOOK_SECRET, Settings


def test_production_refuses_the_public_webhook_secret():
    with pytest.raises(ValidationError, match="LAURA_PSP_WEBHOOK_SECRET"):
        Settings(_env_file=None, environment="production", psp_webhook_secret=DEFAULT_WEBHOOK_SECRET)
    assert Settings(_env_file=None, environment="production", psp_webhook_secret="s3cr3t-of-our-own").environment == "production"
    assert Settings(_env_file=None, environment="development").psp_webhook_secret == DEFAULT_WEBHOOK_SECRET
