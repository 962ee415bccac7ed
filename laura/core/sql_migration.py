"""`laura migrate new-sql "message"`: a new migration that applies the `sql/*.sql` files changed since head.

Migrations are immutable snapshots: the new revision holds the text of each changed file as it is now (it
never reads the files at upgrade time: they will have changed by then), and for its downgrade the
definitions a database at head had. What changed is asked of PostgreSQL itself: a scratch database is
migrated to head and each file is applied to it in a rolled-back transaction (`laura.core.sql_definitions`).
"""

from __future__ import annotations

import ast
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from laura.core.migrations import MIGRATIONS_DIR, head_revision, upgrade
from laura.core.sql_definitions import PACKAGE_DIR, Comparison, compare

_TEMPLATE = '''"""{message}

Revision ID: {revision}
Revises: {down_revision}

Written by `laura migrate new-sql`: the text of these files as of this revision, applied with CREATE OR
REPLACE:
{files}
The text is a snapshot kept here, never read from the files (they change after it); the downgrade puts back
the definitions it replaced.
"""

from alembic import op

revision = "{revision}"
down_revision = "{down_revision}"
branch_labels = None
depends_on = None

UPGRADE = {{
{upgrade}
}}

DOWNGRADE = [
{downgrade}
]


def _run(texts: list[str]) -> None:
    """Each text as written, through the driver's own cursor (no placeholder or bind parsing)."""
    cursor = op.get_bind().connection.cursor()
    for text in texts:
        cursor.execute(text)


def upgrade() -> None:
    _run(list(UPGRADE.values()))


def downgrade() -> None:
    _run(DOWNGRADE)
'''


class SqlDefinitionsInvalid(Exception):
    """A file cannot be applied in place, or a function of the database has no file: say so, write nothing."""


@dataclass(frozen=True)
class NewMigration:
    path: Path
    files: list[str]


def _literal(text: str) -> str:
    """`text` as a Python literal that reads like the SQL: a raw triple-quoted string when that is exact."""
    if '"""' not in text and not text.endswith("\\"):
        literal = f'r"""{text}"""'
        if ast.literal_eval(literal) == text:
            return literal
    return repr(text)


def _slug(message: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:48] or "sql"


def render(
    comparison: Comparison, *, message: str, revision: str, down_revision: str
) -> tuple[str, list[str]]:
    """The new migration's source, and the files it snapshots."""
    changed = [drift for drift in comparison.files if drift.differs]
    names = [drift.path.relative_to(PACKAGE_DIR.parent).as_posix() for drift in changed]
    upgrade_items = [
        f'    "{name}": {_literal(drift.text)},' for name, drift in zip(names, changed, strict=True)
    ]
    # the replaced definitions first (they cannot call what did not exist yet), then the new functions go
    restore = [text for drift in reversed(changed) for text in drift.changed.values()]
    restore += [f"DROP FUNCTION {sig}" for drift in reversed(changed) for sig in drift.added]
    source = _TEMPLATE.format(
        message=message,
        revision=revision,
        down_revision=down_revision,
        files="\n".join(f"- {name}" for name in names),
        upgrade="\n".join(upgrade_items),
        downgrade="\n".join(f"    {_literal(text)}," for text in restore),
    )
    return source, names


def _scratch_compare(server_url: str) -> Comparison:
    """Migrate a scratch database of `server_url`'s server to head and compare the files with it."""
    name = f"laura_new_sql_{secrets.token_hex(4)}"
    admin = make_url(server_url).set(database="postgres").render_as_string(hide_password=False)
    scratch = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        upgrade(scratch)
        with psycopg.connect(scratch) as conn:
            return compare(conn)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def new_sql_migration(
    server_url: str, message: str, versions: Path = MIGRATIONS_DIR / "versions"
) -> NewMigration | None:
    """Write the migration for the files that differ from head; None when none does."""
    comparison = _scratch_compare(server_url)
    broken = [drift for drift in comparison.files if drift.error]
    if broken or comparison.unowned:
        raise SqlDefinitionsInvalid(
            Comparison(broken, comparison.unowned).report()
            + "\n(a function whose result or argument types change, or one dropped, needs a migration by hand)"
        )
    if not any(drift.differs for drift in comparison.files):
        return None
    down_revision = head_revision()
    revision = f"{int(down_revision) + 1:04d}"
    source, names = render(comparison, message=message, revision=revision, down_revision=down_revision)
    path = versions / f"{revision}_{_slug(message)}.py"
    path.write_text(source, encoding="utf-8")
    head_revision.cache_clear()
    return NewMigration(path, names)
