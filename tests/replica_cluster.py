"""A real streaming replica for tests: a primary of its own (`initdb` in a temp dir, on a free port, migrated
to head) and a hot standby cloned from it with `pg_basebackup -R`, both from pgserver's binaries (the
embedded server's, on every machine with laura's dependencies) or else the system's, stopped at the end.

Run as root, the servers run as the `postgres` system user when there is one, else as pgserver's own
`pgserver` user (which the embedded server creates the same way): PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from laura.core.migrations import upgrade
from tests.server_process import free_port

_TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
_SETTLE_SECONDS = 30
"""How long a replica may take to replay what the primary wrote before a test gives up on it."""
_SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c shared_buffers=16MB -c max_connections=120 -c fsync=off"
    " -c max_wal_senders=4 -c wal_level=replica -c hot_standby=on"
)
"""Small: the two servers are a test's, beside the suite's own. A standby needs max_connections at least the
primary's, so both get the same options."""


class ReplicaUnavailable(RuntimeError):
    """No PostgreSQL binaries here, or no user to run them as: the tests that need a replica skip."""


def _bin_dir() -> Path:
    candidates: list[Path] = []
    try:
        import pgserver

        candidates.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for candidate in candidates:
        if all((candidate / tool).is_file() for tool in _TOOLS):
            return candidate
    raise ReplicaUnavailable(f"no directory with {', '.join(_TOOLS)} (pgserver's or /usr/lib/postgresql)")


def _server_user() -> pwd.struct_passwd | None:
    """Who runs the servers: ourselves, or when we are root a system user (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "pgserver"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    try:
        from pgserver.utils import ensure_user_exists

        entry = ensure_user_exists("pgserver")
    except Exception as exc:  # any failure to make the user means no replica here
        raise ReplicaUnavailable(f"running as root and no user to run PostgreSQL as: {exc}") from exc
    if entry is None:
        raise ReplicaUnavailable("running as root and no user to run PostgreSQL as")
    return entry


@dataclass
class ReplicaCluster:
    """The two servers' URLs (database `laura`, migrated) and the replica's replay controls."""

    primary_url: str
    replica_url: str

    def _replica(self) -> psycopg.Connection:
        return psycopg.connect(self.replica_url, autocommit=True)

    def wait_caught_up(self) -> None:
        """Block until the replica has replayed everything the primary has written so far."""
        with psycopg.connect(self.primary_url, autocommit=True) as primary:
            target = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
        deadline = time.monotonic() + _SETTLE_SECONDS
        with self._replica() as replica:
            while True:
                row = replica.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)).fetchone()
                if row is not None and row[0]:
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"the replica did not replay up to {target} in {_SETTLE_SECONDS} s")
                time.sleep(0.05)

    @contextmanager
    def replay_paused(self) -> Iterator[None]:
        """Replay stopped inside the block (a replica lagging as much as a test likes), resumed after it.

        Once `pg_wal_replay_pause()` returns, the startup process applies no further WAL record (it checks
        before each one), so whatever the primary commits in the block is not visible on the replica."""
        self.wait_caught_up()
        with self._replica() as replica:
            replica.execute("SELECT pg_wal_replay_pause()")
        try:
            yield
        finally:
            with self._replica() as replica:
                replica.execute("SELECT pg_wal_replay_resume()")
            self.wait_caught_up()


class _Servers:
    """The temp dir, the user and the binaries; `run` runs one of them as that user."""

    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.user = _server_user()
        self.root = Path(tempfile.mkdtemp(prefix="laura-replica-"))
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)

    def run(self, tool: str, *args: str) -> None:
        ids = {} if self.user is None else {"user": self.user.pw_uid, "group": self.user.pw_gid}
        extra = {} if self.user is None else {"extra_groups": []}
        result = subprocess.run(
            [str(self.bin / tool), *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **ids,  # type: ignore[arg-type]
            **extra,  # type: ignore[arg-type]
        )
        if result.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed: {result.stdout}{result.stderr}")

    def start(self, data: Path, port: int) -> None:
        options = f"-p {port} -k {self.root} {_SERVER_OPTIONS}"
        self.run(
            "pg_ctl", "-D", str(data), "-l", str(self.root / f"{data.name}.log"), "-o", options, "-w", "start"
        )

    def stop(self, data: Path) -> None:
        if (data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")


@contextmanager
def replica_cluster() -> Iterator[ReplicaCluster]:
    """A primary and its streaming replica for the block (raises `ReplicaUnavailable` where none can run)."""
    servers = _Servers()
    primary, replica = servers.root / "primary", servers.root / "replica"
    try:
        servers.run("initdb", "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        primary_port = free_port()
        servers.start(primary, primary_port)
        base = f"postgresql://postgres@127.0.0.1:{primary_port}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute("CREATE DATABASE laura")
        upgrade(f"{base}/laura")
        servers.run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary_port), "-U", "postgres",
            "-D", str(replica), "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        replica_port = free_port()
        servers.start(replica, replica_port)
        yield ReplicaCluster(f"{base}/laura", f"postgresql://postgres@127.0.0.1:{replica_port}/laura")
    finally:
        for data in (replica, primary):
            try:
                servers.stop(data)
            except RuntimeError:
                pass
        shutil.rmtree(servers.root, ignore_errors=True)
