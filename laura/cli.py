"""`laura up | serve | worker | migrate [new-sql] | seed | users | audit | psp-sandbox | backup | restore`:
every command finds its database the same way (LAURA_DATABASE_URL, else the embedded server of the data dir)."""

from __future__ import annotations

import asyncio
import getpass
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress

from laura.bank.cards.keys import RotationMode
from laura.core.backup_cli import backup, restore
from laura.core.cli_support import DataDir, resolve_settings
from laura.ledger.cli import ledger_app
from laura.pix.cli import pix_app
from laura.settings import get_settings

app = typer.Typer(help="Laura: digital bank and ride-hailing backend.", no_args_is_help=True)
users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
keys_app = typer.Typer(help="JWT signing keys and the cards' data keys.", no_args_is_help=True)
migrate_app = typer.Typer(
    help="Apply database migrations up to head; `new-sql` writes one for changed SQL files."
)
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(migrate_app, name="migrate")
app.add_typer(pix_app, name="pix")
app.add_typer(ledger_app, name="ledger")
app.command()(backup)
app.command()(restore)
console = Console(stderr=True)


@migrate_app.callback(invoke_without_command=True)
def migrate(ctx: typer.Context, data_dir: DataDir = None) -> None:
    """Apply database migrations up to head."""
    if ctx.invoked_subcommand is not None:
        return
    from laura.core.migrations import upgrade

    settings = resolve_settings(data_dir)
    upgrade(settings.required_database_url)
    console.print("[green]migrations at head[/green]")


@migrate_app.command("new-sql")
def migrate_new_sql(
    message: Annotated[str, typer.Argument(help="What the migration does (its docstring and file name).")],
    data_dir: DataDir = None,
) -> None:
    """Write a migration applying the laura/**/sql/*.sql files that differ from head.

    A scratch database on the configured server is migrated to head to compare the files with."""
    from laura.core.db import plain_url
    from laura.core.sql_migration import SqlDefinitionsInvalid, new_sql_migration

    settings = resolve_settings(data_dir)
    try:
        written = new_sql_migration(plain_url(settings.required_database_url), message)
    except SqlDefinitionsInvalid as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    if written is None:
        console.print("[green]every SQL file matches head: no migration needed[/green]")
        return
    console.print(f"[green]wrote {written.path.name} applying {', '.join(written.files)}[/green]")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    data_dir: DataDir = None,
) -> None:
    """Serve the API (production: run several behind a load balancer)."""
    import uvicorn

    from laura.app import create_app

    settings = resolve_settings(data_dir)
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        proxy_headers=False,
        log_config=None,
        access_log=settings.access_log,
    )


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Jobs run at once (default LAURA_WORKER_CONCURRENCY).")
    ] = None,
    queues: Annotated[
        str | None, typer.Option(help="Comma-separated queues to serve (default: all).")
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option("--metrics-port", help="Serve this worker's Prometheus metrics on this port."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Run background jobs until SIGINT/SIGTERM (running jobs finish first); start as many as needed.
    Each one starts with a reconciliation pass (what a crash may have left in flight)."""
    import laura.app  # noqa: F401 - the composition root registers the features' task modules
    from laura.core.observability import configure_logging
    from laura.core.tracing import start_tracing
    from laura.core.worker import run_worker

    settings = resolve_settings(data_dir)
    configure_logging(settings.log_level, settings.log_json, trace_ids=start_tracing(settings))
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=settings.host)
    names = [q.strip() for q in queues.split(",") if q.strip()] if queues else None
    asyncio.run(run_worker(settings, concurrency=concurrency, queues=names, startup_tasks=True))


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="E-mail (login).")],
    role: Annotated[str, typer.Option(help="admin or staff.")],
    password: Annotated[str | None, typer.Option(help="Prompted for when omitted.")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Create an admin or staff user (they cannot self-register)."""
    from laura.core.db import Database
    from laura.identity.schemas import RegisterRequest
    from laura.identity.service import create_privileged_user

    if role not in ("admin", "staff"):
        raise typer.BadParameter("role must be admin or staff", param_hint="--role")
    if password is None:
        password = getpass.getpass("Password: ")
    settings = resolve_settings(data_dir)

    async def run() -> str:
        db = Database(settings.required_database_url)
        try:
            async with db.unit_of_work() as session:
                user = await create_privileged_user(
                    session,
                    RegisterRequest(email=email, password=password, name=name or email.split("@")[0]),
                    role=role,
                    password_min_length=settings.password_min_length,
                )
                return str(user.id)
        finally:
            await db.dispose()

    from laura.core.errors import AppError

    try:
        user_id = asyncio.run(run())
    except AppError as exc:
        console.print(f"[red]{exc.error}: {exc.message}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"[green]created {role} {email} ({user_id})[/green]")


@audit_app.command("verify")
def audit_verify(data_dir: DataDir = None) -> None:
    """Walk the audit hash chain; exit 1 naming the first broken row."""
    from laura.audit.service import ChainReport, verify_chain
    from laura.core.db import Database

    settings = resolve_settings(data_dir)

    async def run() -> ChainReport:
        db = Database(settings.required_database_url)
        try:
            async with db.sessionmaker() as session:
                return await verify_chain(session)
        finally:
            await db.dispose()

    report = asyncio.run(run())
    if report.ok:
        console.print(f"[green]audit chain intact: {report.rows} rows[/green]")
        return
    console.print(f"[red]audit chain broken at row {report.first_broken_id}: {report.reason}[/red]")
    raise typer.Exit(1)


@app.command()
def seed(data_dir: DataDir = None) -> None:
    """Create the demo users (idempotent) and print their logins."""
    from laura.seed import print_logins, seed_demo

    settings = resolve_settings(data_dir)
    print_logins(asyncio.run(seed_demo(settings)))


@app.command()
def up(
    demo: Annotated[bool, typer.Option("--demo", help="Seed demo users and print their logins.")] = False,
    host: Annotated[str | None, typer.Option(help="API bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="API port.")] = None,
    psp_port: Annotated[int | None, typer.Option("--psp-port", help="PSP sandbox port.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Start the whole platform: embedded PostgreSQL (unless LAURA_DATABASE_URL), migrations, PSP sandbox,
    API and a worker."""
    from laura.platform import run_platform

    settings = get_settings()
    try:
        run_platform(
            settings,
            demo=demo,
            host=host or settings.host,
            port=port or settings.port,
            psp_port=psp_port or settings.psp_port,
            resolve=lambda: resolve_settings(data_dir),
        )
    except RuntimeError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc


@app.command("psp-sandbox")
def psp_sandbox(
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    tls_cert: Annotated[str | None, typer.Option("--tls-cert", help="Server certificate (PEM).")] = None,
    tls_key: Annotated[str | None, typer.Option("--tls-key", help="Server key (PEM).")] = None,
    tls_client_ca: Annotated[
        str | None, typer.Option("--tls-client-ca", help="CA that signs client certificates (mTLS).")
    ] = None,
    send_settle_delay: Annotated[
        float | None,
        typer.Option("--send-settle-delay", help="Seconds a sent Pix stays EM_PROCESSAMENTO (default 0.5)."),
    ] = None,
) -> None:
    """Run the Efí-compatible PSP emulator (OAuth, charges, sent Pix, webhooks, fault injection)."""
    from laura.pix.sandbox.server import serve_sandbox

    settings = get_settings()
    serve_sandbox(
        host,
        port or settings.psp_port,
        client_id=settings.psp_client_id,
        client_secret=settings.psp_client_secret,
        tls_cert=tls_cert,
        tls_key=tls_key,
        tls_client_ca=tls_client_ca,
        send_settle_delay=send_settle_delay,
    )


class KeyKind(StrEnum):
    SIGNING = "signing"
    CARDS = "cards"
    ALL = "all"


@keys_app.command("rotate")
def keys_rotate(
    what: Annotated[
        KeyKind, typer.Option(help="The JWT signing key, the cards' data key, or both.")
    ] = KeyKind.ALL,
    mode: Annotated[
        RotationMode,
        typer.Option(
            help="Cards: auto finishes an interrupted rotation before starting one; new always starts one;"
            " finish only seals again the cards still under older keys."
        ),
    ] = RotationMode.AUTO,
    batch: Annotated[int, typer.Option(min=1, help="Cards sealed again per transaction.")] = 500,
    data_dir: DataDir = None,
) -> None:
    """Add a new JWT signing key (instances sign with it after a restart, older tokens keep verifying) and/or
    a new card data key, sealing every card again under it, in batches, resumable."""
    from laura.bank.cards.crypto import CardMacs
    from laura.bank.cards.keys import Rotation, open_keyring, rotate
    from laura.core.db import Database
    from laura.core.security import FieldCipher, load_or_create_secret
    from laura.identity.keys import rotate_signing_key

    settings = resolve_settings(data_dir)
    master_key = load_or_create_secret(settings.secret_key, settings.secret_key_path)
    cipher = FieldCipher(master_key)

    async def signing(db: Database) -> str:
        async with db.unit_of_work() as session:
            return await rotate_signing_key(session, cipher)

    async def cards(db: Database) -> Rotation:
        keyring = await open_keyring(db, cipher, CardMacs(master_key))
        with Progress(*Progress.get_default_columns(), MofNCompleteColumn(), console=console) as progress:
            task = progress.add_task("cards sealed again", total=None)
            return await rotate(
                db,
                keyring,
                mode=mode,
                batch=batch,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )

    async def run() -> None:
        db = Database(settings.required_database_url)
        try:
            if what in (KeyKind.SIGNING, KeyKind.ALL):
                console.print(f"[green]new signing key {await signing(db)}[/green]")
            if what in (KeyKind.CARDS, KeyKind.ALL):
                done = await cards(db)
                made = "new card data key" if done.created else "card data key"
                console.print(f"[green]{made} {done.key_id}: {done.resealed} cards sealed again[/green]")
        finally:
            await db.dispose()

    asyncio.run(run())
