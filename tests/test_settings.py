"""Settings refuse what would let a webhook be forged, and what support could not run with."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from laura.settings import PUBLIC_WEBHOOK_SECRET, Settings


@pytest.mark.parametrize("environment", ["development", "test", "production"])
def test_the_public_webhook_secret_is_refused_in_every_environment(environment: str) -> None:
    with pytest.raises(ValidationError, match="LAURA_PSP_WEBHOOK_SECRET is a public value"):
        Settings(_env_file=None, environment=environment, psp_webhook_secret=PUBLIC_WEBHOOK_SECRET)

    assert Settings(_env_file=None, environment=environment, psp_webhook_secret="s3cr3t-of-our-own")


def test_there_is_no_default_webhook_secret_and_webhooks_are_confirmed_with_the_psp() -> None:
    settings = Settings(_env_file=None)

    assert settings.psp_webhook_secret is None
    assert settings.pix_webhook_confirm == "psp"


def test_the_public_secret_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAURA_PSP_WEBHOOK_SECRET", PUBLIC_WEBHOOK_SECRET)

    with pytest.raises(ValidationError, match="LAURA_PSP_WEBHOOK_SECRET"):
        Settings(_env_file=None)


def test_confirmation_off_is_refused_in_production_only() -> None:
    with pytest.raises(ValidationError, match="LAURA_PIX_WEBHOOK_CONFIRM=off is refused in production"):
        Settings(_env_file=None, environment="production", pix_webhook_confirm="off")

    assert Settings(_env_file=None, environment="development", pix_webhook_confirm="off")


def test_mtls_confirmation_needs_the_psp_certificate_fingerprints() -> None:
    with pytest.raises(ValidationError, match="LAURA_PSP_WEBHOOK_CLIENT_FINGERPRINTS"):
        Settings(_env_file=None, pix_webhook_confirm="mtls")

    assert Settings(_env_file=None, pix_webhook_confirm="mtls", psp_webhook_client_fingerprints="AB:CD")


def test_a_settings_error_does_not_print_other_secrets() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, secret_key="master-key-material", psp_webhook_secret=PUBLIC_WEBHOOK_SECRET)

    assert "master-key" not in str(refused.value)


@pytest.mark.parametrize(
    "hours", [{"LOW": 72, "MEDIUM": 24, "HIGH": 4}, {"LOW": 72, "MEDIUM": 24, "HIGH": 4, "URGENT": 0}]
)
def test_the_support_sla_names_every_priority_with_positive_hours(hours: dict[str, int]) -> None:
    with pytest.raises(ValidationError, match="LAURA_SUPPORT_SLA_HOURS"):
        Settings(_env_file=None, support_sla_hours=hours)
