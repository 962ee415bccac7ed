"""Page numbers of the console's lists, read leniently from the query string: a bad `?page=` shows the
first page instead of an error, since a person typed or bookmarked it."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

PAGE_SIZE = 20
_MAX_PAGE = 100_000


@dataclass(frozen=True)
class Paging:
    number: int
    size: int = PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    def pages(self, total: int) -> int:
        return max(1, -(-total // self.size))


def paging(request: Request, size: int = PAGE_SIZE) -> Paging:
    text = request.query_params.get("page", "1")
    number = int(text) if text.isdigit() else 1
    return Paging(min(max(number, 1), _MAX_PAGE), size)


def query_choice(request: Request, name: str, choices: tuple[str, ...]) -> str | None:
    """A filter's value if it is one of `choices`, else no filter."""
    value = request.query_params.get(name)
    return value if value in choices else None
