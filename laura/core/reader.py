"""Reads whose rows only become a response: sent straight to the driver, each row validated into a schema.

SQLAlchemy's execution of a statement (compiling it, its result machinery, loading entities into the
identity map) costs more CPU than the round trip for a read that is only turned into JSON
(docs/PERFORMANCE.md, "Ordinary routes"). A repository's read that feeds a schema sends its SQL here
instead: `$n` placeholders and bound arguments, on the session's connection (its transaction, or autocommit
for a GET, with `fetchrow`'s read-only guard), and each row validated into the schema by column name. A
column named `<field>__<name>` goes into the nested field `<field>`, which is None when every one of its
columns is NULL (a LEFT JOIN that found nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import fetchrow

M = TypeVar("M", bound=BaseModel)

_NESTED = "__"


def fields_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row's columns as a schema's fields, `<field>__<name>` columns gathered into nested `<field>`."""
    fields: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for key, value in row.items():
        outer, sep, inner = key.partition(_NESTED)
        if sep:
            nested.setdefault(outer, {})[inner] = value
        else:
            fields[key] = value
    for name, columns in nested.items():
        fields[name] = columns if any(value is not None for value in columns.values()) else None
    return fields


async def read_one(session: AsyncSession, schema: type[M], sql: str, *args: Any) -> M | None:
    """The first row of a `$n` read as `schema`, or None when there is none."""
    row = await fetchrow(session, sql, *args)
    return None if row is None else schema.model_validate(fields_of(row))
