"""TokenSigner (a verified token is remembered, its expiry checked every time) and the master key file."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from laura.core.security import TokenError, TokenSigner, generate_signing_key, load_or_create_secret


def test_a_remembered_token_still_expires():
    signer = TokenSigner([generate_signing_key()], issuer="laura", ttl_seconds=60)
    token = signer.issue(
        subject="u", session_id="s", role="customer", now=datetime.now(UTC) - timedelta(seconds=59)
    )
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


def test_processes_starting_together_share_one_secret_file(tmp_path):
    path = tmp_path / "data" / "secret.key"
    with ThreadPoolExecutor(max_workers=16) as pool:
        keys = list(pool.map(lambda _: load_or_create_secret(None, path), range(64)))
    assert len(set(keys)) == 1 and len(keys[0]) == 32
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]
