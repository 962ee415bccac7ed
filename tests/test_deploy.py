"""No Docker engine runs here, so the deploy files are checked as data: every service can start, and the
API's environment names only real settings."""

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


def test_only_the_mtls_server_forwards_client_certificate_headers():
    """The API trusts X-SSL-Client-* from nginx: the public server must blank what a client sent, and the
    webhook server must set them from its own verification of Efí's certificate."""
    public, webhook = _directives("nginx.conf"), _directives("webhook-mtls.conf")

    assert 'proxy_set_header X-SSL-Client-Verify "";' in public
    assert 'proxy_set_header X-SSL-Client-Fingerprint "";' in public
    assert "ssl_verify_client on;" in webhook
    assert "proxy_set_header X-SSL-Client-Verify $ssl_client_verify;" in webhook
    assert "proxy_set_header X-SSL-Client-Fingerprint $ssl_client_fingerprint;" in webhook
