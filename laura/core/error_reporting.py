"""Unhandled errors to Sentry when `LAURA_SENTRY_DSN` is set (the `sentry` extra), with no secret in them.

The request middleware answers an unexpected error itself (a 500 with the request id), so no framework
integration sees it: `report_exception` is called there, and by the worker for a job that failed for good.
Every event goes through `scrub_event` before it leaves: the logs' redaction (`core.redaction`: tokens,
Authorization values, secret keys at any depth) and card numbers masked; and Sentry collects no user
identity, cookies, bodies or local variables of the stack frames (`data_collection`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from laura import __version__
from laura.core.redaction import REDACTED, redact_event
from laura.settings import Settings

MISSING_EXTRA = "LAURA_SENTRY_DSN is set but sentry-sdk is not installed: pip install 'laura[sentry]'"

_CARD_NUMBER = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
"""13 to 19 digits, optionally grouped by spaces or dashes: a card number (PAN) in an error's text."""


@dataclass
class _Reporting:
    on: bool = False


_state = _Reporting()


def start_error_reporting(settings: Settings) -> bool:
    """Initialise Sentry once per process when a DSN is configured; returns whether reporting is on."""
    if not settings.sentry_dsn:
        return False
    if _state.on:
        return True
    try:
        import sentry_sdk
        from sentry_sdk.integrations.logging import LoggingIntegration
    except ImportError as exc:
        raise RuntimeError(MISSING_EXTRA) from exc
    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.environment,
        release=f"laura@{__version__}",
        # no user, cookies, bodies, frame variables or query values: what a secret could hide in
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_bodies": [],
            "stack_frame_variables": False,
            "database_query_data": False,
        },
        before_send=scrub_event,
        # errors are reported here, once each: no framework patching, and log lines are breadcrumbs only
        # (Procrastinate logs a failed job at ERROR, which would report it a second time)
        auto_enabling_integrations=False,
        integrations=[LoggingIntegration(event_level=None)],
    )
    _state.on = True
    return True


def report_exception(exc: BaseException, **tags: str) -> None:
    """Send `exc` to Sentry when reporting is on (a no-op otherwise), tagged with what finds its log lines
    (the request id, the job)."""
    if not _state.on:
        return
    import sentry_sdk

    sentry_sdk.capture_exception(exc, tags=tags)


def _mask_card_numbers(value: Any) -> Any:
    if isinstance(value, str):
        return _CARD_NUMBER.sub(REDACTED, value)
    if isinstance(value, dict):
        return {key: _mask_card_numbers(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_card_numbers(item) for item in value]
    return value


def scrub_event(event: Any, _hint: object) -> Any:
    """Sentry's `before_send`: the event with every secret the logs would hide hidden too."""
    return redact_event(None, "sentry", _mask_card_numbers(event))
