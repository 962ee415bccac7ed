"""What every CLI command shares: how it finds its database, and the `--data-dir` option."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from laura.core.embedded import EmbeddedDatabaseError, embedded_database_url
from laura.settings import Settings, get_settings

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Where the embedded database and keys live.")
]


def resolve_settings(data_dir: Path | None = None) -> Settings:
    """Settings with a database URL: LAURA_DATABASE_URL, else the embedded server (started or joined)."""
    settings = get_settings()
    updates: dict[str, Any] = {}
    if data_dir is not None:
        updates["data_dir"] = data_dir
    if not settings.database_url:
        try:
            updates["database_url"] = embedded_database_url(updates.get("data_dir", settings.data_dir))
        except EmbeddedDatabaseError as exc:
            Console(stderr=True).print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
    return settings.model_copy(update=updates)
