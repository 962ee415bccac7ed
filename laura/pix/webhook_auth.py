"""Who may post PSP webhooks: Efí's "skip mTLS" mode with a secret `hmac` query parameter, or a client
certificate verified by the TLS terminator in front of us. Anything else is refused before it is read.

The secret is never a default that ships with the code (anyone could read it): it is
LAURA_PSP_WEBHOOK_SECRET when set, else a random one created once per data dir, like the master key, which
`laura up` and `laura pix register-webhook` register with the PSP."""

from __future__ import annotations

import hmac
from typing import Literal

from laura.core.proxies import trusted_proxies
from laura.core.security import load_or_create_token
from laura.settings import PUBLIC_WEBHOOK_SECRET, Settings

AuthMethod = Literal["hmac", "mtls"]


def webhook_secret(settings: Settings) -> str:
    """The secret the webhook URL carries: the configured one, or the data dir's (created on first use)."""
    secret = settings.psp_webhook_secret or load_or_create_token(settings.webhook_secret_path)
    if not secret or secret == PUBLIC_WEBHOOK_SECRET:
        raise ValueError(
            f"{settings.webhook_secret_path} holds no usable secret: delete it to have a new one made"
        )
    return secret


def authenticate(
    settings: Settings,
    *,
    secret: str,
    hmac_param: str | None,
    client_verify: str | None,
    client_fingerprint: str | None,
    peer: str | None,
) -> AuthMethod | None:
    """The method that authenticates this delivery, or None.

    The certificate headers count only from a trusted proxy (the TLS terminator sets them and strips
    any a client sent), and only for a fingerprint listed in `psp_webhook_client_fingerprints`.
    """
    if hmac_param is not None and hmac.compare_digest(hmac_param.encode(), secret.encode()):
        return "hmac"
    if (
        client_verify == "SUCCESS"
        and client_fingerprint
        and peer in trusted_proxies(tuple(settings.trusted_proxies))
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
