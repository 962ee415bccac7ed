"""`laura backup FILE` and `laura restore FILE`: the commands around laura.core.backup, with a progress bar
over the tables and a one-line summary (sizes, duration, migration revision)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress, TimeElapsedColumn

from laura.core.backup import BackupError, TableDone
from laura.core.cli_support import DataDir, resolve_settings

console = Console(stderr=True)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


@contextmanager
def _over_tables(description: str) -> Iterator[TableDone]:
    """A progress bar ticked by each table's name; a refusal or failure printed in red, exit code 1."""
    try:
        with Progress(
            *Progress.get_default_columns(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            task = progress.add_task(description, total=None)
            yield lambda name: progress.update(task, advance=1, description=name)
    except BackupError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc


def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the dump (pg_dump custom format).")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Dump the configured database to FILE (pg_dump -Fc); restore it with `laura restore FILE`."""
    from laura.core.backup import backup as dump

    settings = resolve_settings(data_dir)
    with _over_tables("dumping tables") as on_table:
        summary = dump(settings.required_database_url, file, force=force, on_table=on_table)
    console.print(
        f"[green]backed up {summary.database} ({_mb(summary.database_bytes)}, {summary.tables} tables,"
        f" revision {summary.revision}) to {file} ({_mb(summary.file_bytes)}) in {summary.seconds:.1f} s[/green]"
    )


def restore(
    file: Annotated[Path, typer.Argument(help="A dump written by `laura backup`.")],
    clean: Annotated[
        bool, typer.Option("--clean", help="Drop the dump's objects first (the database need not be empty).")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Restore FILE into the configured database (empty unless --clean), then check the migrations' head."""
    from laura.core.backup import restore as load

    settings = resolve_settings(data_dir)
    with _over_tables("restoring tables") as on_table:
        summary = load(settings.required_database_url, file, clean=clean, on_table=on_table)
    console.print(
        f"[green]restored {file} into {summary.database} ({_mb(summary.database_bytes)},"
        f" {summary.tables} tables) in {summary.seconds:.1f} s[/green]"
    )
    if not summary.at_head:
        console.print(
            f"[yellow]the restored database is at revision {summary.revision}, not this code's head:"
            " run `laura migrate` before serving it[/yellow]"
        )
        raise typer.Exit(3)
