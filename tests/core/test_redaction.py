"""What `core.redaction` masks in log text, what it leaves alone, and that uvicorn's own handlers get it."""

from __future__ import annotations

import io
import logging

import pytest

from laura.core.observability import configure_logging
from laura.core.redaction import REDACTED, redact, redact_event

JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXBhcnQ_-x"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            f'127.0.0.1:5 - "WebSocket /ws/{JWT}" [accepted]',
            f'127.0.0.1:5 - "WebSocket /ws/{REDACTED}" [accepted]',
        ),
        (f'"WebSocket /ws?token={JWT}&since=4" 403', f'"WebSocket /ws?token={REDACTED}&since=4" 403'),
        ('"WebSocket /ws/opaque-not-a-jwt?since=4"', f'"WebSocket /ws/{REDACTED}?since=4"'),
        ("GET /cb?access_token=abc123&page=2", f"GET /cb?access_token={REDACTED}&page=2"),
        ("POST /x?client_secret=s3cr3t", f"POST /x?client_secret={REDACTED}"),
        (
            "POST /webhooks/efi/pix?hmac=s3cr3t&ignorar=/pix",
            f"POST /webhooks/efi/pix?hmac={REDACTED}&ignorar=/pix",
        ),
        (f"Authorization: Bearer {JWT}", f"Authorization: {REDACTED}"),
        ("authorization: opaque-key", f"authorization: {REDACTED}"),
        ("{'authorization': 'Basic Y2xpZW50OnNlY3JldA=='}", f"{{'authorization': '{REDACTED}'}}"),
        ("(b'authorization', b'Bearer opaque-token-value')", f"(b'authorization', b'Bearer {REDACTED}')"),
        (f"token rejected: {JWT}", f"token rejected: {REDACTED}"),
        ("X-Verification-Code: 123456", f"X-Verification-Code: {REDACTED}"),
        ("(b'x-verification-code', b'123456')", f"(b'x-verification-code', b'{REDACTED}')"),
        (
            "otpauth://totp/Laura:ana%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Laura",
            f"otpauth://totp/Laura:ana%40example.com?secret={REDACTED}&issuer=Laura",
        ),
    ],
)
def test_secrets_inside_text_are_masked(line: str, expected: str) -> None:
    assert redact(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        '127.0.0.1:5 - "WebSocket /ws" [accepted]',
        '"GET /api/transfers?page=1&limit=20&status=COMPLETED HTTP/1.1" 200',
        "basic checks passed",
        "request_id=0af7 route=/rides/{ride_id}/accept status=409",
    ],
)
def test_ordinary_text_is_left_alone(line: str) -> None:
    assert redact(line) == line


def test_the_processor_masks_secret_keys_at_any_depth_and_scans_every_other_string() -> None:
    event = {
        "event": f"handshake /ws/{JWT}",
        "password": "hunter22",
        "access_token": "opaque",
        "headers": {"x-forwarded-for": "10.0.0.1", "Authorization": "opaque", "note": [f"Bearer {JWT}"]},
        "status": 101,
        "data": {"code": "123456", "otpauthUri": "otpauth://…", "qrCodePng": "iVBOR…"},
    }
    assert redact_event(None, "info", event) == {
        "event": f"handshake /ws/{REDACTED}",
        "password": REDACTED,
        "access_token": REDACTED,
        "headers": {"x-forwarded-for": "10.0.0.1", "Authorization": REDACTED, "note": [f"Bearer {REDACTED}"]},
        "status": 101,
        "data": {"code": REDACTED, "otpauthUri": REDACTED, "qrCodePng": REDACTED},
    }


def test_a_handler_uvicorn_attaches_itself_still_gets_redacted_records() -> None:
    """A deployment's uvicorn log config puts its own handlers on `uvicorn.error`: the logger filters."""
    configure_logging("INFO")
    logger = logging.getLogger("uvicorn.error")
    stream = io.StringIO()
    own = logging.StreamHandler(stream)
    # A uvicorn server started earlier in the run (log_level="warning") leaves its level on this logger.
    level, disabled = logger.level, logger.disabled
    logger.setLevel(logging.INFO)
    logger.disabled = False
    logger.addHandler(own)
    try:
        logger.info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5", f"/ws/{JWT}")
        logger.info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5", "/ws")
    finally:
        logger.removeHandler(own)
        logger.setLevel(level)
        logger.disabled = disabled
    assert stream.getvalue().splitlines() == [
        f'127.0.0.1:5 - "WebSocket /ws/{REDACTED}" [accepted]',
        '127.0.0.1:5 - "WebSocket /ws" [accepted]',
    ]
