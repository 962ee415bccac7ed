"""The sandbox's knobs: credentials, token lifetime, timings of settlement and webhook retries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """Everything the emulator needs; the defaults behave like Efí, tests shorten the delays."""

    client_id: str
    client_secret: str
    token_ttl: int = 3600
    scope: str = "cob.write cob.read pix.write pix.read pix.send gn.pix.send.read webhook.write webhook.read"
    # ISPB used in the end-to-end ids the sandbox makes up (Efí's own).
    ispb: str = "09089356"
    location_host: str = "pix.sandbox.laura.local"
    merchant_name: str = "LAURA SANDBOX"
    merchant_city: str = "SAO PAULO"
    # A sent Pix stays EM_PROCESSAMENTO this long before it settles.
    send_settle_delay: float = 0.5
    webhook_max_attempts: int = 5
    webhook_backoff_base: float = 1.0
    webhook_backoff_max: float = 30.0
    webhook_timeout: float = 5.0
    # How the sandbox checks the TLS certificate of an https webhook receiver (a CA bundle path, or a bool).
    webhook_verify: bool | str = True
