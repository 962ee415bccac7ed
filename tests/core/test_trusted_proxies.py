"""LAURA_TRUSTED_PROXIES as addresses and CIDR networks: a listed proxy's X-Forwarded-For names the client
(what the login's session records), an unlisted peer's is ignored, and a hostname is refused at start."""

from __future__ import annotations

import httpx
import psycopg
import pytest
from pydantic import ValidationError

from laura.app import create_app
from laura.settings import Settings
from tests.helpers import login, register


def test_a_hostname_is_refused_with_the_reason():
    with pytest.raises(ValidationError, match="'nginx' is neither an IP address nor a CIDR network"):
        Settings(_env_file=None, trusted_proxies="10.0.0.5,nginx")


def test_addresses_and_networks_are_accepted():
    settings = Settings(_env_file=None, trusted_proxies="10.0.0.5, 172.16.0.0/12,fd00::/8")
    assert settings.trusted_proxies == ["10.0.0.5", "172.16.0.0/12", "fd00::/8"]


async def _session_ip(app, database_url: str, peer: str, forwarded_for: str) -> str:
    """Log in from `peer` (the TCP peer the server sees) saying X-Forwarded-For; the IP its session records."""
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        user = await register(client)
        client.headers["X-Forwarded-For"] = forwarded_for
        await login(client, user["email"])
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT s.ip FROM auth_sessions s JOIN users u ON u.id = s.user_id WHERE u.email = %s",
            (user["email"],),
        ).fetchone()
    assert row is not None
    return row[0]


async def test_only_a_listed_networks_forwarded_for_is_believed(settings: Settings, database_url: str):
    settings = settings.model_copy(update={"trusted_proxies": ["10.20.0.0/16", "2001:db8::/32"]})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert await _session_ip(app, database_url, "10.20.3.4", "203.0.113.7") == "203.0.113.7"
        # a dual-stack listener reports an IPv4 proxy as an IPv4-mapped IPv6 address
        assert await _session_ip(app, database_url, "::ffff:10.20.9.9", "203.0.113.8") == "203.0.113.8"
        assert await _session_ip(app, database_url, "2001:db8::7", "203.0.113.9") == "203.0.113.9"
        # the nearest untrusted hop: a chain through two listed proxies still names the client
        assert await _session_ip(app, database_url, "10.20.3.4", "198.51.100.1, 10.20.0.2") == "198.51.100.1"
        # a peer outside every listed network speaks only for itself, whatever it claims
        assert await _session_ip(app, database_url, "10.21.0.1", "203.0.113.7") == "10.21.0.1"
