"""The embedded PostgreSQL: a real server from the `pgserver` wheel, kept in the data dir across restarts."""

from __future__ import annotations

from pathlib import Path


class EmbeddedDatabaseError(RuntimeError):
    """pgserver could not start here; the message says why and how to use an external server instead."""


def embedded_database_url(data_dir: Path) -> str:
    """Start (or join) the embedded server of `data_dir` and return its URL (a Unix socket).

    pgserver shares one server per data directory between processes and stops it when the last one
    exits. Run as root, it creates a `pgserver` system user and opens read access on the parents.
    """
    pgdata = (data_dir / "pgdata").resolve()
    # Made here, not by pgserver: its check-then-mkdir races when several processes start on a fresh data
    # dir at once (the test suite's xdist workers), and the loser fails with FileExistsError. The rest of
    # its start (initdb, chown when root, pg_ctl start) runs under its own interprocess lock.
    pgdata.mkdir(parents=True, exist_ok=True)
    try:
        import pgserver

        server = pgserver.get_server(pgdata, cleanup_mode="stop")
        uri = server.get_uri()
    except Exception as exc:
        raise EmbeddedDatabaseError(
            f"The embedded PostgreSQL (pgserver) could not start in {pgdata}: {exc}. "
            "Point LAURA_DATABASE_URL at a PostgreSQL 14+ server instead, e.g. "
            "LAURA_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/laura"
        ) from exc
    _servers.append(server)
    return uri


_servers: list[object] = []
