"""The periodic reconciliation is scheduled and runs as a worker would run it; `laura pix register-webhook`
points the PSP at our webhook."""

from __future__ import annotations

import httpx
from typer.testing import CliRunner

from laura.cli import app as cli
from laura.core.db import Database
from laura.core.jobs import JobRuntime, app, bind_runtime
from laura.pix.tasks import reconcile_job
from laura.settings import Settings, get_settings

from .conftest import CLIENT_ID, CLIENT_SECRET, PIX_KEY, new_charge, scalar


def test_reconciliation_runs_every_five_minutes_by_default() -> None:
    periodic = app.periodic_registry.periodic_tasks[("pix.reconcile", "pix-reconcile")]

    assert periodic.cron == "*/5 * * * *"
    assert Settings(_env_file=None).pix_reconcile_cron == "*/5 * * * *"


async def test_the_periodic_job_reconciles_with_a_client_of_its_own(
    db: Database, psp, owner, settings: Settings, control: httpx.AsyncClient
) -> None:
    charge = await new_charge(db, psp, owner)
    (await control.post("/sandbox/faults", json={"webhook": "drop"})).raise_for_status()
    await control.post(f"/sandbox/cob/{charge.txid}/pay")

    with bind_runtime(
        JobRuntime(db=db, settings=settings.model_copy(update={"pix_reconcile_grace_seconds": 0}))
    ):
        await reconcile_job(timestamp=0)

    assert await scalar(db, "SELECT status FROM pix_charges") == "PAID"
    assert await scalar(db, "SELECT count(*) FROM pix_test_effects") == 1


def test_register_webhook_command(sandbox_url: str, monkeypatch, api_token: str) -> None:
    for name, value in {
        "PSP_BASE_URL": sandbox_url,
        "PSP_CLIENT_ID": CLIENT_ID,
        "PSP_CLIENT_SECRET": CLIENT_SECRET,
        "PSP_PIX_KEY": PIX_KEY,
        "PSP_WEBHOOK_SECRET": "s3cr3t/+=",
        "PUBLIC_URL": "https://api.laura.example",
    }.items():
        monkeypatch.setenv(f"LAURA_{name}", value)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["pix", "register-webhook"])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    registered = httpx.get(
        f"{sandbox_url}/v2/webhook/{PIX_KEY}", headers={"Authorization": f"Bearer {api_token}"}
    )
    assert registered.json()["webhookUrl"] == (
        "https://api.laura.example/webhooks/efi/pix?hmac=s3cr3t%2F%2B%3D&ignorar="
    )
