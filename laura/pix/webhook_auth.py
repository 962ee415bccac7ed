"""Who may post PSP webhooks: Efí's "skip mTLS" mode with a secret `hmac` query parameter, or a client
certificate verified by the TLS terminator in front of us. Anything else is refused before it is read."""

from __future__ import annotations

import hmac
from typing import Literal

from laura.settings import Settings

AuthMethod = Literal["hmac", "mtls"]


def authenticate(
    settings: Settings,
    *,
    hmac_param: str | None,
    client_verify: str | None,
    client_fingerprint: str | None,
    peer: str | None,
) -> AuthMethod | None:
    """The method that authenticates this delivery, or None.

    The certificate headers count only from a trusted proxy (the TLS terminator sets them and strips
    any a client sent), and only for a fingerprint listed in `psp_webhook_client_fingerprints`.
    """
    if hmac_param is not None and hmac.compare_digest(
        hmac_param.encode(), settings.psp_webhook_secret.encode()
    ):
        return "hmac"
    if (
        client_verify == "SUCCESS"
        and client_fingerprint
        and peer in settings.trusted_proxies
        and _fingerprint_known(client_fingerprint, settings.psp_webhook_client_fingerprints)
    ):
        return "mtls"
    return None


def _normalize(fingerprint: str) -> bytes:
    return fingerprint.replace(":", "").strip().lower().encode()


def _fingerprint_known(fingerprint: str, known: list[str]) -> bool:
    presented = _normalize(fingerprint)
    matches = [hmac.compare_digest(presented, _normalize(candidate)) for candidate in known]
    return any(matches)
