"""TokenSigner: a verified token is remembered, but its expiry is checked every time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from laura.core.security import TokenError, TokenSigner, generate_signing_key


def test_a_remembered_token_still_expires():
    signer = TokenSigner([generate_signing_key()], issuer="laura", ttl_seconds=60)
    token = signer.issue(subject="u", session_id="s", role="customer", now=datetime.now(UTC) - timedelta(seconds=59))
    assert signer.verify(token)["sub"] == "u"
    time.sleep(1.5)
    with pytest.raises(TokenError, match="expired"):
        signer.verify(token)


def test_a_forged_token_is_refused_every_time():
    signer = TokenSigner([generate_signing_key()], issuer="laura", ttl_seconds=60)
    other = TokenSigner([generate_signing_key()], issuer="laura", ttl_seconds=60)
    forged = other.issue(subject="u", session_id="s", role="admin")
    for _ in range(2):
        with pytest.raises(TokenError):
            signer.verify(forged)
