"""The PostgreSQL functions' current definitions: the `sql/*.sql` files beside their features, compared with
a database's.

A feature's `sql/` folder holds the one current text of each function (or trigger function) it owns, as
`CREATE OR REPLACE FUNCTION` statements; migrations apply snapshots of those files (`laura migrate new-sql`
writes them). To compare a file with a database, the file is executed inside a transaction that is then
rolled back, and PostgreSQL's own rendering of each function (`pg_get_functiondef`) is read before and
after: equal renderings mean the database runs exactly the file's text, with no parser of ours in between.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import psycopg

PACKAGE_DIR = Path(__file__).resolve().parents[1]
"""The `laura` package: every `laura/**/sql/*.sql` file is a definition file."""

_DEFINES = re.compile(
    r"^\s*CREATE\s+OR\s+REPLACE\s+FUNCTION\s+(?:public\.)?(\w+)\s*\(", re.IGNORECASE | re.MULTILINE
)

# Functions of the current schema that no extension owns (Procrastinate's are left out by the caller).
_DEFINITIONS = """
SELECT p.oid::regprocedure::text, p.proname, pg_get_functiondef(p.oid)
  FROM pg_proc p
 WHERE p.pronamespace = current_schema()::regnamespace
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
"""


def sql_files(root: Path = PACKAGE_DIR) -> list[Path]:
    """The definition files, in path order (the order a fresh database would need them in)."""
    return sorted(root.rglob("sql/*.sql"))


def defined_names(text: str) -> list[str]:
    """The functions a file's `CREATE OR REPLACE FUNCTION` statements name, in order."""
    return _DEFINES.findall(text)


def library_functions() -> frozenset[str]:
    """Procrastinate's own functions (its schema is applied from the installed package, migration 0003)."""
    schema = resources.files("procrastinate.sql").joinpath("schema.sql").read_text(encoding="utf-8")
    return frozenset(
        re.findall(r"CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+(?:public\.)?(\w+)", schema, re.IGNORECASE)
    )


def definitions(conn: psycopg.Connection) -> dict[str, tuple[str, str]]:
    """signature (`name(argtypes)`) -> (name, `pg_get_functiondef`) of the project's functions in `conn`'s
    database."""
    skip = library_functions()
    return {
        sig: (name, text) for sig, name, text in conn.execute(_DEFINITIONS).fetchall() if name not in skip
    }


@dataclass
class FileDrift:
    """How the database differs from one file: the functions it would change, add, or could not replace."""

    path: Path
    text: str
    changed: dict[str, str] = field(default_factory=dict)
    """signature -> the database's definition, for each function the file defines differently"""
    added: list[str] = field(default_factory=list)
    """signatures the file defines that the database lacks"""
    error: str | None = None
    """PostgreSQL's refusal to apply the file in place (e.g. a changed result type needs DROP and CREATE)"""

    @property
    def differs(self) -> bool:
        return bool(self.changed or self.added or self.error)


@dataclass
class Comparison:
    files: list[FileDrift]
    unowned: list[str]
    """signatures in the database that no file defines"""

    @property
    def clean(self) -> bool:
        return not self.unowned and not any(drift.differs for drift in self.files)

    def report(self, root: Path = PACKAGE_DIR) -> str:
        lines = []
        for drift in self.files:
            where = (
                drift.path.relative_to(root.parent) if drift.path.is_relative_to(root.parent) else drift.path
            )
            lines += [f"{where}: {drift.error}"] if drift.error else []
            lines += [f"{where}: differs from the database for {sig}" for sig in drift.changed]
            lines += [f"{where}: defines {sig}, which the database lacks" for sig in drift.added]
        lines += [f"{sig}: in the database but in no laura/**/sql/*.sql file" for sig in self.unowned]
        return "\n".join(lines)


def compare(conn: psycopg.Connection, files: list[Path] | None = None) -> Comparison:
    """Apply each file to `conn`'s database inside a transaction that is rolled back, and say what it changed.

    `conn` must not be in autocommit mode; nothing it does here is kept.
    """
    drifts: list[FileDrift] = []
    owned: set[str] = set()
    with conn.transaction(force_rollback=True):
        before = definitions(conn)
        for path in files if files is not None else sql_files():
            drift = FileDrift(path, path.read_text(encoding="utf-8"))
            names = set(defined_names(drift.text))
            owned |= names
            current = definitions(conn)
            try:
                with conn.transaction():
                    conn.execute(drift.text.encode())
            except psycopg.Error as exc:
                drift.error = f"cannot be applied in place: {exc.diag.message_primary or exc}"
            else:
                after = definitions(conn)
                drift.added = sorted(sig for sig in after if sig not in current)
                drift.changed = {
                    sig: before.get(sig, current[sig])[1]
                    for sig, (name, text) in after.items()
                    if name in names and sig in current and current[sig][1] != text
                }
            drifts.append(drift)
    unowned = sorted(sig for sig, (name, _) in before.items() if name not in owned)
    return Comparison(drifts, unowned)
