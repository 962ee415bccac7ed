"""`laura up`: the whole platform in one process group — database, migrations, demo data, PSP sandbox,
API and a job worker — with progress while it starts and a clean stop on Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import uvicorn
from rich.console import Console
from rich.panel import Panel
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from laura.settings import Settings

console = Console(stderr=True)


T = TypeVar("T")


def _step(progress: Progress, label: str, action: Callable[[], T]) -> T:
    task = progress.add_task(label, total=1)
    result = action()
    progress.update(task, completed=1, description=f"[green]✓[/green] {label}")
    return result


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) != 0


def _start_sandbox(settings: Settings, psp_port: int) -> subprocess.Popen:
    """The Efí-compatible PSP emulator as a child process; waits until it answers."""
    if not _port_free("127.0.0.1", psp_port):
        raise RuntimeError(f"port {psp_port} is already in use (choose another with --psp-port)")
    process = subprocess.Popen(
        [sys.executable, "-m", "laura", "psp-sandbox", "--host", "127.0.0.1", "--port", str(psp_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stderr.read() if process.stderr else b""
            raise RuntimeError(f"PSP sandbox exited: {output.decode()[-500:]}")
        if not _port_free("127.0.0.1", psp_port):
            return process
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError("PSP sandbox did not answer within 30 s")


def _register_pix_webhook(settings: Settings, host: str, port: int) -> None:
    """Point the sandbox's webhook for our key at this API (HMAC mode, with the data dir's secret, created
    here on a first start), as `laura pix register-webhook` does. A failure only warns: reconciliation still finds payments, and the command can be run again."""
    from laura.pix.psp import PspError, PspUnavailable
    from laura.pix.webhook_setup import register_webhook

    try:
        asyncio.run(register_webhook(settings, base_url=settings.public_url or f"http://{host}:{port}"))
    except (PspError, PspUnavailable) as exc:
        console.print(
            f"[yellow]Pix webhook not registered ({exc.message}): run `laura pix register-webhook`[/yellow]"
        )


async def _serve(settings: Settings, host: str, port: int) -> None:
    from laura.app import create_app
    from laura.core.worker import run_worker

    config = uvicorn.Config(
        create_app(settings), host=host, port=port, log_config=None, access_log=settings.access_log
    )
    server = uvicorn.Server(config)
    worker = asyncio.create_task(run_worker(settings, install_signal_handlers=False, startup_tasks=True))
    try:
        await server.serve()
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def run_platform(
    settings: Settings, *, demo: bool, host: str, port: int, psp_port: int, resolve: Callable[[], Settings]
) -> None:
    """Start everything in order, print the URLs (and demo logins), serve until Ctrl-C, stop cleanly."""
    from laura.core.migrations import upgrade
    from laura.seed import print_logins, seed_demo

    # SIGTERM (systemd, docker stop, a supervisor) stops like Ctrl-C: the sandbox is terminated on the way
    # out. uvicorn handles the signal while serving, then raises it again once stopped, and Python's default
    # action for SIGTERM would end the process before the `finally` below.
    signal.signal(signal.SIGTERM, _interrupt)
    if not _port_free(host, port):
        raise RuntimeError(f"port {port} on {host} is already in use (choose another with --port)")
    sandbox: subprocess.Popen | None = None
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        settings = _step(progress, "PostgreSQL", resolve)
        _step(progress, "Migrations", lambda: upgrade(settings.required_database_url))
        users = _step(progress, "Demo data", lambda: asyncio.run(seed_demo(settings))) if demo else []
        if settings.psp_base_url is None:
            sandbox = _step(
                progress, f"PSP sandbox on :{psp_port}", lambda: _start_sandbox(settings, psp_port)
            )
            settings = settings.model_copy(update={"psp_base_url": f"http://127.0.0.1:{psp_port}"})
            _step(progress, "Pix webhook", lambda: _register_pix_webhook(settings, host, port))
    base = f"http://{host}:{port}"
    console.print(
        Panel.fit(
            f"Web app  {base}/\nAPI      {base}\nDocs     {base}/docs\nMetrics  {base}/metrics\nPSP      {settings.psp_base_url}\n"
            f"Data     {Path(settings.data_dir).resolve()}\n\nCtrl-C stops everything.",
            title="Laura is up",
        )
    )
    if users:
        print_logins(users)
    try:
        asyncio.run(_serve(settings, host, port))
    except KeyboardInterrupt:
        pass
    finally:
        if sandbox is not None:
            sandbox.terminate()
            try:
                sandbox.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sandbox.kill()
                sandbox.wait()
        console.print("[green]stopped[/green]")
