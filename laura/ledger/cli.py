"""`laura ledger verify`: recompute the ledger from its entries and name what does not add up."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

from laura.core.cli_support import DataDir, resolve_settings

ledger_app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)
console = Console(stderr=True)


@ledger_app.command("verify")
def verify(data_dir: DataDir = None) -> None:
    """Check the ledger against its entries; exit 1 naming each problem."""
    from laura.core.db import Database
    from laura.ledger.service import VerifyReport
    from laura.ledger.service import verify as verify_ledger

    settings = resolve_settings(data_dir)

    async def run() -> VerifyReport:
        db = Database(settings.required_database_url)
        try:
            async with db.sessionmaker() as session:
                return await verify_ledger(session)
        finally:
            await db.dispose()

    report = asyncio.run(run())
    summary = f"{report.transactions} transactions, {report.entries} entries, {report.accounts} accounts"
    if report.ok:
        console.print(f"[green]ledger sound: {summary}[/green]")
        return
    for problem in report.problems:
        console.print(f"[red]{problem}[/red]")
    console.print(f"[red]ledger verify failed ({len(report.problems)} problems) over {summary}[/red]")
    raise typer.Exit(1)
