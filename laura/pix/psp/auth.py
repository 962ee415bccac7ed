"""OAuth2 client credentials for the PSP: one cached access token, refreshed shortly before it expires."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import structlog

from laura.pix.psp.errors import PspServerError, psp_error_from

log = structlog.get_logger(__name__)

# Refresh this long before the PSP's `expires_in` runs out (at most a tenth of the lifetime).
REFRESH_MARGIN_SECONDS = 30.0


class OAuthTokens:
    """Fetches and caches the PSP access token; concurrent callers share one fetch."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        client_id: str,
        client_secret: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._auth = httpx.BasicAuth(client_id, client_secret)
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        """A valid access token: the cached one, or a fresh one from `POST /oauth/token`."""
        async with self._lock:
            token = self._token
            if token is None or self._clock() >= self._refresh_at:
                token = self._token = await self._fetch()
            return token

    def invalidate(self, token: str) -> None:
        """Drop `token` after the PSP refused it (401), unless another caller already replaced it."""
        if self._token == token:
            self._token = None

    async def _fetch(self) -> str:
        started = self._clock()
        response = await self._http.post(
            "/oauth/token", json={"grant_type": "client_credentials"}, auth=self._auth
        )
        if response.status_code >= 500:
            raise PspServerError(response)
        if response.status_code != 200:
            raise psp_error_from(response)
        body = response.json()
        lifetime = float(body.get("expires_in", 0))
        self._refresh_at = started + lifetime - min(REFRESH_MARGIN_SECONDS, lifetime / 10)
        log.info("psp.oauth.token_fetched", expires_in=lifetime)
        return str(body["access_token"])
