"""No Docker engine runs here, so the deploy files are checked as data: every service can start, and the
API's environment names only real settings."""

from ipaddress import ip_address, ip_network
from pathlib import Path

import yaml

from laura.settings import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def test_every_service_has_a_command():
    services = _compose()["services"]
    assert {"api-1", "api-2", "worker", "nginx", "postgres", "redis", "prometheus", "grafana"} <= set(
        services
    )
    for name, service in services.items():
        assert service.get("command"), f"{name} has no command"
        assert service.get("image") or service.get("build"), f"{name} has neither image nor build"


def test_api_environment_matches_the_settings_class():
    fields = {f"LAURA_{name.upper()}" for name in Settings.model_fields}
    services = _compose()["services"]
    for name in ("api-1", "api-2", "worker", "migrate"):
        env = services[name]["environment"]
        unknown = set(env) - fields
        assert not unknown, f"{name} sets unknown settings {unknown}"
        assert "LAURA_DATABASE_URL" in env


def test_dockerfile_runs_as_non_root_in_stages():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert dockerfile.count("FROM ") >= 2
    assert "\nUSER laura" in dockerfile


def _directives(conf: str) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in (DEPLOY / "nginx" / conf).read_text().splitlines())
    return [" ".join(line.split()) for line in lines if line]


def _servers(conf: str) -> list[list[str]]:
    """The directives of each `server { ... }` block of an nginx file (one level of nested blocks)."""
    servers: list[list[str]] = []
    depth = 0
    for directive in _directives(conf):
        if directive.startswith("server {"):
            servers.append([])
            depth = 1
            continue
        if servers and depth:
            depth += directive.count("{") - directive.count("}")
            if depth:
                servers[-1].append(directive)
    return servers


def test_only_the_mtls_server_forwards_client_certificate_headers():
    """The API trusts X-SSL-Client-* from nginx: every public server must blank what a client sent, and the
    webhook server must set them from its own verification of Efí's certificate."""
    proxy, webhook = _directives("laura-proxy.conf"), _directives("webhook-mtls.conf")

    assert 'proxy_set_header X-SSL-Client-Verify "";' in proxy
    assert 'proxy_set_header X-SSL-Client-Fingerprint "";' in proxy
    proxying = [
        server for server in _servers("nginx.conf") if "return 308 https://$host$request_uri;" not in server
    ]
    assert len(proxying) == 2
    for server in proxying:
        assert "include /etc/nginx/laura-proxy.conf;" in server
        assert not any(d.startswith("proxy_pass") for d in server), "proxy only through laura-proxy.conf"
    assert "ssl_verify_client on;" in webhook
    assert "proxy_set_header X-SSL-Client-Verify $ssl_client_verify;" in webhook
    assert "proxy_set_header X-SSL-Client-Fingerprint $ssl_client_fingerprint;" in webhook


def test_the_public_server_terminates_modern_tls_with_hsts_and_port_80_redirects():
    plain, tls, internal = _servers("nginx.conf")
    assert "listen 80;" in plain and "return 308 https://$host$request_uri;" in plain
    assert "listen 443 ssl;" in tls
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in tls
    [ciphers] = [d for d in tls if d.startswith("ssl_ciphers ")]
    suites = ciphers.removeprefix("ssl_ciphers ").rstrip(";").split(":")
    assert all(s.startswith("ECDHE-") and ("GCM" in s or "CHACHA20" in s) for s in suites), suites
    assert "ssl_session_tickets off;" in tls
    [hsts] = [d for d in tls if "Strict-Transport-Security" in d]
    assert hsts.endswith(" always;") and "includeSubDomains" in hsts
    assert int(hsts.split("max-age=")[1].split(";")[0]) >= 31536000
    assert "listen 8080;" in internal
    proxy = _directives("laura-proxy.conf")
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in proxy
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in proxy


def test_compose_trusts_nginx_by_its_fixed_address_and_publishes_only_tls():
    compose = _compose()
    nginx = compose["services"]["nginx"]
    address = nginx["networks"]["default"]["ipv4_address"]
    trusted = compose["services"]["api-1"]["environment"]["LAURA_TRUSTED_PROXIES"]
    assert trusted == address
    settings = Settings(_env_file=None, trusted_proxies=trusted)
    [subnet] = compose["networks"]["default"]["ipam"]["config"]
    assert ip_address(address) in ip_network(subnet["subnet"]) and settings.trusted_proxies == [address]
    assert sorted(nginx["ports"]) == ["443:443", "80:80"]
    mounted = {volume.split(":")[1] for volume in nginx["volumes"]}
    assert {"/etc/nginx/nginx.conf", "/etc/nginx/laura-proxy.conf", "/etc/nginx/tls"} <= mounted
