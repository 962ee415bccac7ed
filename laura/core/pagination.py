"""The one pagination shape: `?page=&limit=` (offset) or `?cursor=` (keyset) -> {data, pagination}."""

from __future__ import annotations

import base64
import json
import math
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from laura.core.errors import ValidationFailed

T = TypeVar("T")


class PageParams(BaseModel):
    page: int = 1
    limit: int = 20
    cursor: str | None = None

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


async def _page_params(
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> PageParams:
    return PageParams(page=page, limit=limit, cursor=cursor)


PageDep = Annotated[PageParams, Depends(_page_params)]


class PaginationMeta(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    page: int
    limit: int
    total: int
    total_pages: int
    has_more: bool
    next_cursor: str | None = None


class Page(BaseModel, Generic[T]):
    data: list[T]
    pagination: PaginationMeta

    @classmethod
    def build(
        cls, items: list[Any], params: PageParams, total: int, next_cursor: str | None = None
    ) -> Page[T]:
        pages = math.ceil(total / params.limit) if total else 0
        has_more = next_cursor is not None if params.cursor is not None else params.page < pages
        meta = PaginationMeta(
            page=params.page,
            limit=params.limit,
            total=total,
            total_pages=pages,
            has_more=has_more,
            next_cursor=next_cursor,
        )
        return cls(data=items, pagination=meta)


def encode_cursor(values: dict[str, Any]) -> str:
    """An opaque keyset cursor: the sort key of the last row seen."""
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The values `encode_cursor` put in; anything else (not base64, not JSON, not an object) is a 422."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        values = None
    if not isinstance(values, dict):
        raise ValidationFailed("Invalid cursor", details=[{"field": "cursor", "message": "malformed"}])
    return values
