"""PostgreSQL text cannot hold a NUL character (U+0000): asyncpg refuses the whole statement, which would
surface as a 500. So every text a client sends (body fields, query parameters, path, headers we store) is
checked against this one rule at the edge and refused as a 422 naming the field."""

from __future__ import annotations

from typing import TypeVar

from pydantic_core import PydanticCustomError

T = TypeVar("T")

NUL = "\x00"
NUL_ERROR_TYPE = "string_nul"
NUL_MESSAGE = "must not contain the NUL character (U+0000)"


def refuse_nul(value: T) -> T:
    """A pydantic validator: the value as is, or, for a text holding a NUL, the refusal (pydantic names the
    field from its location)."""
    if isinstance(value, str) and NUL in value:
        raise PydanticCustomError(NUL_ERROR_TYPE, NUL_MESSAGE)
    return value


def nul_detail(field: str) -> dict[str, str]:
    """One entry of a VALIDATION_ERROR's `details`, for a refusal made outside pydantic."""
    return {"field": field, "message": NUL_MESSAGE, "type": NUL_ERROR_TYPE}
