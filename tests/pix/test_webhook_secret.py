"""The webhook secret is nobody's default: a random one per data dir (kept across restarts, mode 0600, and
registered with the PSP), or the configured one; a delivery carrying the once-public default pays nothing."""

from __future__ import annotations

import stat
import uuid
from pathlib import Path

import httpx
import pytest

from laura.core.db import Database
from laura.pix.webhook_auth import webhook_secret
from laura.settings import PUBLIC_WEBHOOK_SECRET, Settings

from .conftest import PIX_KEY, new_charge, rows, scalar
from .sandbox.fixtures import wait_until


def test_a_fresh_data_dir_gets_a_random_secret_that_the_next_start_reuses(tmp_path: Path) -> None:
    first = webhook_secret(Settings(_env_file=None, data_dir=tmp_path / "a"))
    restarted = webhook_secret(Settings(_env_file=None, data_dir=tmp_path / "a"))
    elsewhere = webhook_secret(Settings(_env_file=None, data_dir=tmp_path / "b"))

    path = tmp_path / "a" / "webhook.secret"
    assert first == restarted == path.read_text().strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 40 and first != PUBLIC_WEBHOOK_SECRET
    assert elsewhere != first


def test_a_configured_secret_is_used_as_is(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, psp_webhook_secret="our-own-secret")

    assert webhook_secret(settings) == "our-own-secret"
    assert not (tmp_path / "webhook.secret").exists()


@pytest.mark.parametrize("content", [PUBLIC_WEBHOOK_SECRET, "", "\n"])
def test_a_data_dir_file_holding_the_public_value_or_nothing_is_refused(tmp_path: Path, content: str) -> None:
    (tmp_path / "webhook.secret").write_text(content)

    with pytest.raises(ValueError, match="no usable secret"):
        webhook_secret(Settings(_env_file=None, data_dir=tmp_path))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No configured secret (the data dir's is used) and no confirmation: the secret alone is under test."""
    return settings.model_copy(update={"psp_webhook_secret": None, "pix_webhook_confirm": "off"})


async def test_a_delivery_with_the_public_secret_is_refused_and_pays_nothing(
    client: httpx.AsyncClient, db: Database, psp, owner
) -> None:
    charge = await new_charge(db, psp, owner, amount="100.00")
    pix = {
        "endToEndId": f"E09089356202501020304{uuid.uuid4().hex[:11]}",
        "txid": charge.txid,
        "valor": "100.00",
        "horario": "2025-01-02T03:04:05.000Z",
    }

    response = await client.post(
        f"/webhooks/efi/pix?hmac={PUBLIC_WEBHOOK_SECRET}&ignorar=/pix", json={"pix": [pix]}
    )

    assert response.status_code == 401
    assert await scalar(db, "SELECT status FROM pix_charges WHERE txid = :t", t=charge.txid) == "ACTIVE"
    assert await scalar(db, "SELECT count(*) FROM webhook_deliveries") == 0
    assert await scalar(db, "SELECT count(*) FROM pix_test_effects") == 0


async def test_the_data_dir_secret_is_registered_and_the_psp_payment_is_credited(
    settings: Settings,
    db: Database,
    psp,
    owner,
    control: httpx.AsyncClient,
    api_token: str,
    webhook_registered: str,
    live_url: str,
) -> None:
    secret = (settings.data_dir / "webhook.secret").read_text().strip()
    registered = await control.get(f"/v2/webhook/{PIX_KEY}", headers={"Authorization": f"Bearer {api_token}"})
    charge = await new_charge(db, psp, owner)

    (await control.post(f"/sandbox/cob/{charge.txid}/pay")).raise_for_status()

    assert registered.json()["webhookUrl"] == f"{live_url}/webhooks/efi/pix?hmac={secret}&ignorar="
    await wait_until(lambda: scalar(db, "SELECT count(*) FROM pix_test_effects"))
    assert await rows(db, "SELECT kind, ref FROM pix_test_effects") == [("paid", charge.txid)]
