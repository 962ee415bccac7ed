"""Secrets out of every log line, whoever writes it.

Redacting by key name (`password=...`) misses the secrets that arrive inside text: uvicorn logs each
WebSocket handshake as `"WebSocket /ws/<access JWT>" [accepted]`, an access log line carries
`?token=<JWT>`, an exception message may quote a header. So every string of every log line (message,
values, formatted traceback) also goes through `redact`, which masks anything JWT-shaped, secret query
values, the `/ws/<token>` path segment and Authorization values. `configure_logging` runs it for structlog
and for stdlib loggers alike, and adds `RedactSecrets` on uvicorn's own loggers for any handler uvicorn or
a deployment's log config attaches there.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from structlog.typing import EventDict

REDACTED = "[redacted]"

SECRET_KEYS = frozenset(
    {
        "password",
        "token",
        "accesstoken",
        "refreshtoken",
        "authorization",
        "secret",
        "cvv",
        "cardnumber",
        "code",
        "verificationcode",
        "xverificationcode",
        "otpauthuri",
        "qrcodepng",
        "apikey",
        "xapikey",
    }
)
"""Log keys whose whole value is a secret (compared lowercase, without underscores)."""

# A quote or a backslash (an escape in a repr) ends every match.
_PATTERNS = (
    # A JWT: base64url header (JSON, so it starts with `eyJ`), payload and signature.
    (re.compile(r"eyJ[\w-]*\.[\w-]+\.[\w-]*"), REDACTED),
    # Authorization values: `Authorization: Bearer x`, `'authorization': 'Basic x'`, `authorization=x`.
    (
        re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(?:(?:bearer|basic)\s+)?[^\s'\",;}\\]+"),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(?i)\b((?:bearer|basic)\s+)[\w.~+/=-]{8,}"), rf"\1{REDACTED}"),
    # A one-time code header, as text (`X-Verification-Code: 123456`) or as ASGI's pair of bytes.
    (
        re.compile(r"(?i)(x-verification-code['\"]?\s*(?:[:=]|,\s*b?)\s*['\"]?)[^\s'\",;}\\]+"),
        rf"\1{REDACTED}",
    ),
    # The card network's processor key, as text (`X-Api-Key: x`) or as ASGI's pair of bytes.
    (re.compile(r"(?i)(x-api-key['\"]?\s*(?:[:=]|,\s*b?)\s*['\"]?)[^\s'\",;}\\]+"), rf"\1{REDACTED}"),
    # Secret query values: `?token=`, `&access_token=`, `&password=`, `&client_secret=`, and the `?hmac=`
    # secret the PSP's webhook calls carry.
    (re.compile(r"(?i)([?&;](?:[\w.-]*(?:token|password|secret)|hmac)=)[^&\s'\"#\\]+"), rf"\1{REDACTED}"),
    # The WebSocket's path form `/ws/<token>`.
    (re.compile(r"(/ws/)[^\s?'\"#/\\]+"), rf"\1{REDACTED}"),
)


_MAY_HOLD_SECRET = re.compile(
    r"eyJ|/ws/|=|[Bb]earer|BEARER|[Bb]asic|BASIC|[Aa]uthorization|AUTHORIZATION|[Vv]erification-[Cc]ode"
    r"|[Aa]pi-[Kk]ey|API-KEY"
)
"""One cheap scan first (literals: three times faster than `(?i:...)`): most strings of a log line (ids,
routes, statuses) hold none of these."""


def redact(text: str) -> str:
    """`text` with every token-shaped secret replaced by "[redacted]"."""
    if not _MAY_HOLD_SECRET.search(text):
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


@functools.lru_cache(maxsize=4096)
def _is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key.replace("_", "").lower() in SECRET_KEYS


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: REDACTED if _is_secret_key(k) else _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


def redact_event(_logger: object, _name: str, event: EventDict) -> EventDict:
    """structlog processor, run just before rendering: values under secret keys (at any depth) masked
    whole, every other string scanned."""
    for key, value in event.items():
        event[key] = REDACTED if _is_secret_key(key) else _redact_value(value)
    return event


class RedactSecrets(logging.Filter):
    """On a stdlib logger: rewrite the record's message before any of its handlers (uvicorn's own too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            message = record.getMessage()
            clean = redact(message)
            if clean != message:
                record.msg, record.args = clean, ()
        return True


def install_filter(logger: logging.Logger) -> None:
    """Add `RedactSecrets` to `logger` once (logging is configured again by every app built in a process)."""
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())
