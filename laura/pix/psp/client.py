"""The async client of an Efí-compatible Pix API: the only way Laura's money leaves or enters over Pix.

Every call: a timeout; an OAuth2 bearer token (cached, refreshed once on a 401, the call then replayed
once); retries with exponential backoff and full jitter on transport errors and 5xx, but only for GET
and PUT, which are idempotent because we pick the txid/idEnvio ourselves; a circuit breaker in front,
so that a dead PSP fails fast with `PspUnavailable`. The PSP refusing a request raises `PspError`.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import quote

import httpx
import structlog

from laura.pix.metrics import PSP_REQUEST_DURATION, PSP_REQUESTS
from laura.pix.psp.auth import OAuthTokens
from laura.pix.psp.breaker import CircuitBreaker, CircuitOpen
from laura.pix.psp.errors import PspError, PspServerError, PspUnavailable, psp_error_from
from laura.pix.psp.ids import ID_ENVIO_PATTERN, TXID_PATTERN
from laura.pix.psp.models import (
    Charge,
    ChargeStatus,
    Debtor,
    ReceivedPix,
    SentPix,
    WebhookConfig,
    money_to_wire,
)
from laura.pix.psp.tls import ClientCert, build_ssl_context

if TYPE_CHECKING:
    from laura.settings import Settings

log = structlog.get_logger(__name__)

RETRYABLE_METHODS = frozenset({"GET", "PUT"})

T = TypeVar("T")


class EfiClient:
    """One connection pool, one token cache and one circuit breaker per PSP account."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        cert: ClientCert | None = None,
        cert_password: str | None = None,
        verify: ssl.SSLContext | str | bool = True,
        timeout: float | httpx.Timeout = 10.0,
        retries: int = 2,
        backoff_base: float = 0.2,
        backoff_max: float = 2.0,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            verify=build_ssl_context(verify, cert, cert_password),
            headers={"User-Agent": "laura-psp-client"},
        )
        self._tokens = OAuthTokens(self._http, client_id, client_secret)
        self._retries = max(0, retries)
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self.breaker = breaker or CircuitBreaker()

    @classmethod
    def from_settings(cls, settings: Settings) -> EfiClient:
        """The client the platform uses: `LAURA_PSP_*` settings, defaulting to the local sandbox."""
        return cls(
            settings.psp_base_url or f"http://127.0.0.1:{settings.psp_port}",
            settings.psp_client_id,
            settings.psp_client_secret,
            cert=settings.psp_cert_path,
            cert_password=settings.psp_cert_password,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # -- charges (cob) -------------------------------------------------------------------------------

    async def create_charge(
        self,
        txid: str,
        amount: Decimal,
        key: str,
        expires_in: int,
        description: str | None = None,
        debtor: Debtor | None = None,
    ) -> Charge:
        """Create an immediate charge with our own txid (`PUT /v2/cob/{txid}`), safe to retry."""
        _check(TXID_PATTERN.match(txid), f"txid must be 26..35 alphanumerics: {txid!r}")
        _check(expires_in > 0, "expires_in must be positive")
        body: dict[str, Any] = {
            "calendario": {"expiracao": expires_in},
            "valor": {"original": money_to_wire(amount)},
            "chave": key,
        }
        if description:
            body["solicitacaoPagador"] = description
        if debtor:
            body["devedor"] = debtor.to_wire()
        return await self._call("create_charge", "PUT", f"/v2/cob/{txid}", Charge.from_wire, json=body)

    async def get_charge(self, txid: str) -> Charge:
        """Read a charge back, with the Pix paid into it (reconciliation when a webhook was lost)."""
        return await self._call("get_charge", "GET", f"/v2/cob/{_segment(txid)}", Charge.from_wire)

    async def get_received_pix(self, e2e_id: str) -> ReceivedPix:
        """A Pix received on our keys, by its end-to-end id (`GET /v2/pix/{e2eId}`): how a webhook's word is
        checked before its money is applied. An e2eId the PSP does not know raises PspError (404)."""
        return await self._call(
            "get_received_pix", "GET", f"/v2/pix/{_segment(e2e_id)}", ReceivedPix.from_wire
        )

    async def cancel_charge(self, txid: str) -> Charge:
        """Withdraw an unpaid charge so it can no longer be paid."""
        body = {"status": ChargeStatus.REMOVIDA_PELO_USUARIO_RECEBEDOR.value}
        path = f"/v2/cob/{_segment(txid)}"
        return await self._call("cancel_charge", "PATCH", path, Charge.from_wire, json=body)

    # -- webhooks ------------------------------------------------------------------------------------

    async def register_webhook(self, key: str, url: str, *, skip_mtls_check: bool = False) -> WebhookConfig:
        """Ask the PSP to notify `url` (it POSTs to `<url>/pix`) of Pix received on `key`.

        `skip_mtls_check` sends Efí's `x-skip-mtls-checking` header, for receivers that can't do mTLS.
        """
        headers = {"x-skip-mtls-checking": "true"} if skip_mtls_check else None
        return await self._call(
            "register_webhook",
            "PUT",
            f"/v2/webhook/{_segment(key)}",
            lambda data: WebhookConfig(key=key, url=str(data.get("webhookUrl", url))),
            json={"webhookUrl": url},
            headers=headers,
        )

    # -- sending Pix (payouts) -----------------------------------------------------------------------

    async def send_pix(
        self,
        id_envio: str,
        amount: Decimal,
        payer_key: str,
        payee_key: str,
        description: str | None = None,
    ) -> SentPix:
        """Send a Pix from our key to `payee_key` (`PUT /v3/gn/pix/{idEnvio}`); the id makes it idempotent.

        The answer is usually `EM_PROCESSAMENTO`: the outcome comes later by webhook or by polling.
        """
        _check(ID_ENVIO_PATTERN.match(id_envio), f"idEnvio must be 1..35 alphanumerics: {id_envio!r}")
        payer: dict[str, str] = {"chave": payer_key}
        if description:
            payer["infoPagador"] = description
        body = {"valor": money_to_wire(amount), "pagador": payer, "favorecido": {"chave": payee_key}}
        parse = partial(SentPix.from_wire, id_envio=id_envio)
        return await self._call("send_pix", "PUT", f"/v3/gn/pix/{id_envio}", parse, json=body)

    async def get_sent_pix_by_id(self, id_envio: str) -> SentPix:
        """Read a sent Pix by our idEnvio: how a payout whose request timed out learns its fate."""
        path = f"/v2/gn/pix/enviados/id-envio/{_segment(id_envio)}"
        return await self._call("get_sent_pix", "GET", path, partial(SentPix.from_wire, id_envio=id_envio))

    async def get_sent_pix_by_e2e(self, e2e_id: str) -> SentPix:
        """Read a sent Pix by its end-to-end id."""
        path = f"/v2/gn/pix/enviados/{_segment(e2e_id)}"
        return await self._call("get_sent_pix", "GET", path, SentPix.from_wire)

    # -- plumbing ------------------------------------------------------------------------------------

    async def _call(
        self,
        operation: str,
        method: str,
        path: str,
        parse: Callable[[dict[str, Any]], T],
        *,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> T:
        """One PSP operation: breaker, retries, token, then `parse` of the JSON answer (or a PspError)."""
        started = time.perf_counter()
        outcome = "unavailable"
        try:
            try:
                self.breaker.before_call()
            except CircuitOpen:
                outcome = "circuit_open"
                log.warning("psp.call.circuit_open", operation=operation)
                raise PspUnavailable("The payment provider is unavailable (circuit open)") from None
            try:
                response = await self._with_retries(operation, method, path, json, headers)
            except (httpx.TransportError, PspServerError) as exc:
                self.breaker.record_failure()
                log.warning("psp.call.unavailable", operation=operation, reason=_describe(exc))
                raise PspUnavailable() from exc
            except PspError:
                self.breaker.record_success()
                outcome = "psp_error"
                raise
            except BaseException:
                self.breaker.release()
                raise
            self.breaker.record_success()
            if response.status_code >= 400:
                outcome = "psp_error"
                error = psp_error_from(response)
                log.warning(
                    "psp.call.refused",
                    operation=operation,
                    status=response.status_code,
                    psp_error=error.psp_error,
                )
                raise error
            try:
                result = parse(response.json())
            except (KeyError, TypeError, ValueError) as exc:
                outcome = "psp_error"
                log.warning("psp.call.unreadable", operation=operation, status=response.status_code)
                raise PspError(
                    "The payment provider sent an answer we cannot read", psp_status=response.status_code
                ) from exc
            outcome = "success"
            log.info("psp.call.ok", operation=operation, status=response.status_code)
            return result
        finally:
            PSP_REQUESTS.labels(operation=operation, outcome=outcome).inc()
            PSP_REQUEST_DURATION.labels(operation=operation).observe(time.perf_counter() - started)

    async def _with_retries(
        self,
        operation: str,
        method: str,
        path: str,
        json: dict[str, Any] | None,
        headers: dict[str, str] | None,
    ) -> httpx.Response:
        attempts = 1 + (self._retries if method in RETRYABLE_METHODS else 0)
        attempt = 1
        while True:
            try:
                response = await self._authorized(method, path, json, headers)
                if response.status_code >= 500:
                    raise PspServerError(response)
                return response
            except (httpx.TransportError, PspServerError) as exc:
                if attempt >= attempts:
                    raise
                delay = random.uniform(0, min(self._backoff_max, self._backoff_base * 2 ** (attempt - 1)))
                log.info("psp.call.retry", operation=operation, attempt=attempt, reason=_describe(exc))
                await asyncio.sleep(delay)
                attempt += 1

    async def _authorized(
        self, method: str, path: str, json: dict[str, Any] | None, headers: dict[str, str] | None
    ) -> httpx.Response:
        token = await self._tokens.get()
        response = await self._request(method, path, json, headers, token)
        if response.status_code == 401:
            self._tokens.invalidate(token)
            response = await self._request(method, path, json, headers, await self._tokens.get())
        return response

    async def _request(
        self, method: str, path: str, json: dict[str, Any] | None, headers: dict[str, str] | None, token: str
    ) -> httpx.Response:
        return await self._http.request(
            method, path, json=json, headers={**(headers or {}), "Authorization": f"Bearer {token}"}
        )


def _check(condition: object, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _segment(value: str) -> str:
    """Quote a value for one URL path segment (Pix keys may hold `@`, `+` or `/`)."""
    return quote(value, safe="")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, PspServerError):
        return f"http_{exc.response.status_code}"
    return type(exc).__name__
