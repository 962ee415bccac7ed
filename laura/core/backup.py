"""`laura backup` and `laura restore`: pg_dump's custom format (-Fc) of the configured database, and
pg_restore of such a file into an empty one, checked against the migrations' head afterwards.

pg_dump refuses a server newer than itself and pg_restore reads only dumps of its own major version or
older, so the client tools are chosen to match the server: Debian's /usr/lib/postgresql/<major>/bin, the
embedded server's own (pgserver's wheel), then PATH. The password travels in PGPASSWORD, never on a
command line another user can read in `ps`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from laura.core.db import plain_url
from laura.core.migrations import head_revision

DUMP_MAGIC = b"PGDMP"
"""The first bytes of a custom-format dump (pg_dump -Fc)."""

TableDone = Callable[[str], None]
"""Called with each table's name as its data is dumped or restored (a progress bar's tick)."""


class BackupError(RuntimeError):
    """The backup or restore was refused or failed; the message says why and what to do."""


@dataclass(frozen=True)
class Connection:
    """A database as the PostgreSQL client tools take it: a conninfo without the password, and the env."""

    conninfo: str
    env: dict[str, str]
    server_major: int
    name: str


@dataclass(frozen=True)
class BackupSummary:
    database: str
    database_bytes: int
    file_bytes: int
    tables: int
    revision: str | None
    seconds: float


@dataclass(frozen=True)
class RestoreSummary:
    database: str
    database_bytes: int
    tables: int
    revision: str | None
    at_head: bool
    seconds: float


def connect_info(database_url: str) -> Connection:
    """The libpq parameters of `database_url` with the password moved to the environment."""
    params = conninfo_to_dict(plain_url(database_url))
    password = params.pop("password", None)
    env = {**os.environ, **({"PGPASSWORD": str(password)} if password else {})}
    conninfo = make_conninfo(**{k: str(v) for k, v in params.items()})
    try:
        with psycopg.connect(plain_url(database_url)) as conn:
            version = int(conn.execute("SHOW server_version_num").fetchone()[0])  # type: ignore[index]
            name = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    except psycopg.OperationalError as exc:
        raise BackupError(f"cannot connect to the database: {exc}") from exc
    return Connection(conninfo=conninfo, env=env, server_major=version // 10000, name=name)


def _major(binary: Path) -> int | None:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    found = re.search(r"\(PostgreSQL\) (\d+)", out)
    return int(found.group(1)) if found else None


def _candidates(name: str) -> list[Path]:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    try:
        from pgserver._commands import POSTGRES_BIN_PATH

        found.append(Path(POSTGRES_BIN_PATH) / name)
    except ImportError:
        pass
    on_path = shutil.which(name)
    if on_path:
        found.append(Path(on_path))
    return [path for path in found if path.is_file()]


def client_tool(name: str, server_major: int) -> Path:
    """The `pg_dump`/`pg_restore` of the server's major version, else the oldest newer one."""
    usable = [
        (major, path)
        for path in _candidates(name)
        if (major := _major(path)) is not None and major >= server_major
    ]
    if not usable:
        raise BackupError(
            f"no {name} of PostgreSQL {server_major} or newer found (looked in /usr/lib/postgresql/*/bin,"
            f" the embedded server's binaries and PATH): install postgresql-client-{server_major}"
        )
    return min(usable, key=lambda found: found[0])[1]  # the first of the lowest major, in search order


def _facts(database_url: str) -> tuple[int, int, str | None]:
    """(database bytes, user tables, migration revision) of the database."""
    with psycopg.connect(plain_url(database_url)) as conn:
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
        tables = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
            " AND n.nspname NOT LIKE 'pg_toast%'"
        ).fetchone()[0]  # type: ignore[index]
        revision = None
        if conn.execute("SELECT to_regclass('alembic_version')").fetchone()[0]:  # type: ignore[index]
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
    return int(size), int(tables), revision


def _empty(database_url: str) -> None:
    """Drop every schema but the system ones, with all they hold, and give back an empty `public`."""
    with psycopg.connect(plain_url(database_url), autocommit=False) as conn:
        schemas = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema')"
            " AND nspname NOT LIKE 'pg\\_%'"
        ).fetchall()
        for (schema,) in schemas:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        conn.execute("CREATE SCHEMA public")


def _run(command: list[str], env: dict[str, str], marker: str, on_table: TableDone | None) -> None:
    """Run a verbose client tool, ticking `on_table` per table line; a failure raises its error lines."""
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert process.stderr is not None
    errors = []
    for line in process.stderr:
        if marker in line and on_table is not None:
            on_table(line.rsplit(marker, 1)[1].strip().strip('"'))
        elif "error:" in line or "FATAL" in line:
            errors.append(line.strip())
    if process.wait() != 0:
        raise BackupError(
            f"{Path(command[0]).name} failed: " + (" | ".join(errors) or f"exit {process.returncode}")
        )


def backup(
    database_url: str, target: Path, *, force: bool = False, on_table: TableDone | None = None
) -> BackupSummary:
    """Dump the database to `target` (custom format); an existing file is kept unless `force`.

    The dump is written beside the target and renamed into place, so a failed run never leaves a
    truncated file where the last good backup was."""
    if target.exists() and not force:
        raise BackupError(f"{target} exists: choose another file or pass --force to overwrite it")
    db = connect_info(database_url)
    tool = client_tool("pg_dump", db.server_major)
    partial = target.with_name(target.name + ".partial")
    started = time.perf_counter()
    try:
        _run(
            [str(tool), "--format=custom", "--verbose", f"--file={partial}", f"--dbname={db.conninfo}"],
            db.env,
            "dumping contents of table ",
            on_table,
        )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    size, tables, revision = _facts(database_url)
    return BackupSummary(db.name, size, target.stat().st_size, tables, revision, seconds)


def restore(
    database_url: str, source: Path, *, clean: bool = False, on_table: TableDone | None = None
) -> RestoreSummary:
    """Restore a custom-format dump into the database, which must hold no tables unless `clean`.

    `clean` empties the database first (pg_restore's own --clean cannot drop a partitioned table's
    inherited constraints); the restore itself is one transaction, so a failure leaves the database as
    it was before it (empty, after `clean`). Owners and grants are not restored (the
    restoring role owns everything), so a dump moves between servers whose roles differ."""
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    with source.open("rb") as dump:
        if dump.read(len(DUMP_MAGIC)) != DUMP_MAGIC:
            raise BackupError(f"{source} is not a pg_dump custom-format file (laura backup writes one)")
    db = connect_info(database_url)
    _, tables, _ = _facts(database_url)
    if tables and not clean:
        raise BackupError(
            f"database {db.name} already holds {tables} tables: restore into an empty database, or pass"
            " --clean to drop and recreate the dump's objects first"
        )
    tool = client_tool("pg_restore", db.server_major)
    command = [str(tool), "--verbose", "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction"]
    started = time.perf_counter()
    if tables:
        _empty(database_url)
    _run([*command, f"--dbname={db.conninfo}", str(source)], db.env, "processing data for table ", on_table)
    seconds = time.perf_counter() - started
    size, tables, revision = _facts(database_url)
    return RestoreSummary(db.name, size, tables, revision, revision == head_revision(), seconds)
