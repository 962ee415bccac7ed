"""Identifiers we choose ourselves, so that a retried PUT creates nothing twice."""

from __future__ import annotations

import re
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits

TXID_PATTERN = re.compile(r"^[a-zA-Z0-9]{26,35}$")
ID_ENVIO_PATTERN = re.compile(r"^[a-zA-Z0-9]{1,35}$")
E2E_ID_PATTERN = re.compile(r"^[EeDd][0-9]{8}[0-9]{12}[a-zA-Z0-9]{11}$")


def _random_alnum(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_txid() -> str:
    """A fresh txid (32 alphanumerics; Pix allows 26..35), picked before the PUT so retries are safe."""
    return _random_alnum(32)


def new_id_envio() -> str:
    """A fresh `idEnvio` for a Pix send (32 alphanumerics, within Efí's 1..35): the send's idempotency key."""
    return _random_alnum(32)
