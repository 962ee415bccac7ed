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
    assert {"api-1", "api-2", "worker", "nginx", "postgres", "redis", "prometheus", "grafana"} <= set(services)
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
