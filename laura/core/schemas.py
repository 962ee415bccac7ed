"""The base of every request and response model: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer, field_validator
from pydantic.alias_generators import to_camel

from laura.core.text import refuse_nul


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, from_attributes=True, str_strip_whitespace=True
    )


class RequestModel(ApiModel):
    """Request bodies refuse unknown fields, so a typo is a 422 and not a silently ignored value; and a
    NUL character in any text field, which PostgreSQL cannot store (`core.text`). The check runs before the
    field's own constraints, so the refusal says what is wrong; nested models check their own fields."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)


def _iso_z(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


UtcDatetime = Annotated[datetime, PlainSerializer(_iso_z, return_type=str, when_used="json")]
"""A timestamp on the wire: ISO 8601 in UTC with a `Z`."""
