"""The card network's caller: a processor API key (`X-Api-Key`), not a customer token."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from laura.bank.card_network.errors import InvalidApiKey


def _accepted(key: str, accepted: list[str]) -> bool:
    """Whether `key` is one of the accepted keys, compared with each in constant time (no early exit, so
    the time says nothing about which key or how much of it matched)."""
    given = key.encode()
    found = False
    for candidate in accepted:
        found |= secrets.compare_digest(given, candidate.encode())
    return found


_API_KEY = APIKeyHeader(name="X-Api-Key", auto_error=False, description="A card network processor key")


async def require_network_key(
    request: Request, x_api_key: Annotated[str | None, Security(_API_KEY)] = None
) -> None:
    """401 INVALID_API_KEY unless `X-Api-Key` is one of `LAURA_CARD_NETWORK_API_KEYS`; with none set,
    every request is refused."""
    accepted: list[str] = request.app.state.settings.card_network_api_keys
    if not x_api_key or not accepted or not _accepted(x_api_key, accepted):
        raise InvalidApiKey()


NetworkKey = Depends(require_network_key)
"""The router's dependency: every card network route needs the key."""
