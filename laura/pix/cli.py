"""`laura pix ...`: operator commands for Pix."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from laura.settings import get_settings

pix_app = typer.Typer(help="Pix: the PSP webhook.", no_args_is_help=True)
console = Console(stderr=True)


@pix_app.command("register-webhook")
def register_webhook_command(
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="Public base URL the PSP can reach (default LAURA_PUBLIC_URL)."),
    ] = None,
) -> None:
    """Register `{base}/webhooks/efi` for LAURA_PSP_PIX_KEY at the PSP (HMAC or mTLS, per settings)."""
    from laura.pix.psp import PspError, PspUnavailable
    from laura.pix.webhook_setup import register_webhook

    settings = get_settings()
    base = base_url or settings.public_url
    if not base:
        raise typer.BadParameter("give --base-url or set LAURA_PUBLIC_URL", param_hint="--base-url")
    try:
        target = asyncio.run(register_webhook(settings, base_url=base))
    except (PspError, PspUnavailable) as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"[green]webhook for {settings.psp_pix_key} registered: the PSP posts to {target}[/green]")
