"""Telling the PSP where to post Pix news: `laura pix register-webhook`, and `laura up` with the sandbox.

Efí posts to the registered URL with `/pix` appended; after a query string it appends it literally, so
with the secret in the query we register `.../webhooks/efi/pix?hmac=<secret>&ignorar=` (Efí's documented
`ignorar=` trick) and the post lands on `/webhooks/efi/pix?hmac=<secret>&ignorar=/pix`. With mutual TLS
(client certificate fingerprints configured) we register `.../webhooks/efi` and Efí posts to
`.../webhooks/efi/pix` presenting its certificate.
"""

from __future__ import annotations

from urllib.parse import quote

from laura.pix.psp import EfiClient
from laura.pix.webhook_auth import webhook_secret
from laura.settings import Settings

WEBHOOK_PATH = "/webhooks/efi"


def webhook_url(settings: Settings, base_url: str) -> tuple[str, bool]:
    """The URL to register for our key, and whether to ask Efí to skip its mTLS check (HMAC mode)."""
    base = base_url.rstrip("/") + WEBHOOK_PATH
    if settings.psp_webhook_client_fingerprints:
        return base, False
    return f"{base}/pix?hmac={quote(webhook_secret(settings), safe='')}&ignorar=", True


async def register_webhook(settings: Settings, *, base_url: str) -> str:
    """Register our webhook for `LAURA_PSP_PIX_KEY` at the configured PSP; returns the public base used."""
    url, skip_mtls = webhook_url(settings, base_url)
    async with EfiClient.from_settings(settings) as psp:
        await psp.register_webhook(settings.psp_pix_key, url, skip_mtls_check=skip_mtls)
    return base_url.rstrip("/") + WEBHOOK_PATH + "/pix"
