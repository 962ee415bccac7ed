"""The Efí-compatible PSP client: charges (`cob`), webhooks and Pix sends over OAuth2 + mTLS."""

from laura.pix.psp.breaker import BreakerState, CircuitBreaker
from laura.pix.psp.client import EfiClient
from laura.pix.psp.errors import PspError, PspUnavailable
from laura.pix.psp.ids import new_id_envio, new_txid
from laura.pix.psp.models import (
    Charge,
    ChargeStatus,
    Debtor,
    ReceivedPix,
    SentPix,
    SentPixStatus,
    WebhookConfig,
)

__all__ = [
    "BreakerState",
    "Charge",
    "ChargeStatus",
    "CircuitBreaker",
    "Debtor",
    "EfiClient",
    "PspError",
    "PspUnavailable",
    "ReceivedPix",
    "SentPix",
    "SentPixStatus",
    "WebhookConfig",
    "new_id_envio",
    "new_txid",
]
