"""deploy/prometheus/alerts.yml is valid (`promtool check rules`), its unit tests pass (`promtool test rules
deploy/prometheus/alerts_test.yml`: every alert fires on a scenario), every metric its expressions name is
one the app's /metrics or a worker process's really exports, every alert links a runbook section of docs/operations.md, and
prometheus.yml and the Alertmanager example are valid (`promtool check config`, `amtool check-config`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from tests.metrics_support import EXPORTER_SERIES, PROMETHEUS_SERIES, exported_samples, metric_names
from tests.worker_process import worker_process

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts_test.yml"
ALERTMANAGER = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
CRITICAL = {"HighRideCancellationRate", "NoDriversAvailable", "WebhooksMissed", "HighPayoutFailureRate"}
"""The mobility spec's four critical alerts."""
BOTH_SPECS = {"HighErrorRate", "SlowRequests", "DatabaseDown", "JobQueueGrowing", "LedgerVerifyFailing"}
"""The banking spec's (errors, latency, database down) and issue 18's (job queue, ledger verify)."""


def _rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def _tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not on PATH (Debian's `{package}` package has it): not checked")
    return found


def _run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, check=False, cwd=cwd, timeout=120
    )


def test_promtool_checks_the_rules() -> None:
    checked = _run(_tool("promtool", "prometheus"), "check", "rules", RULES)

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_promtool_unit_tests_cover_every_alert_and_pass() -> None:
    tested = _run(_tool("promtool", "prometheus"), "test", "rules", RULE_TESTS.name, cwd=RULE_TESTS.parent)

    assert tested.returncode == 0, tested.stdout + tested.stderr
    fired = {test["alertname"] for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]
             for test in case["alert_rule_test"] if test["exp_alerts"]}  # fmt: skip
    assert fired == {rule["alert"] for rule in _rules()}


def test_promtool_checks_the_scrape_config_with_its_rules(tmp_path: Path) -> None:
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    config["rule_files"] = [str(RULES)]  # the compose file mounts it at /etc/prometheus/alerts.yml
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))

    checked = _run(_tool("promtool", "prometheus"), "check", "config", tmp_path / "prometheus.yml")

    assert checked.returncode == 0, checked.stdout + checked.stderr
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert {"laura-api", "laura-worker", "postgres"} <= jobs
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]


def test_amtool_checks_the_alertmanager_example() -> None:
    checked = _run(_tool("amtool", "prometheus-alertmanager"), "check-config", ALERTMANAGER)

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_alertmanager_example_routes_each_severity_the_rules_use() -> None:
    routes = yaml.safe_load(ALERTMANAGER.read_text())["route"]["routes"]
    routed = {m.split("=")[1].strip('"') for route in routes for m in route["matchers"] if "severity" in m}

    assert {rule["labels"]["severity"] for rule in _rules()} <= routed


def test_every_alert_has_severity_summary_and_a_runbook_section() -> None:
    rules = {rule["alert"]: rule for rule in _rules()}
    anchors = {
        "alert-" + re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
        for heading in re.findall(
            r"^#+ Alert: (.+)$", (ROOT / "docs" / "operations.md").read_text(), re.MULTILINE
        )
    }

    assert CRITICAL | BOTH_SPECS <= set(rules)
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in {"page", "ticket"}, name
        assert rule["annotations"]["summary"], name
        page, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert page == "docs/operations.md" and anchor in anchors, f"{name}: no section {anchor!r}"
    for name in CRITICAL:
        assert "for" in rules[name], name


def test_metric_names_are_read_from_expressions() -> None:
    expr = 'histogram_quantile(0.99, sum by (le) (rate(x_bucket{a="b(c)"}[5m]))) / on(job) y_total > bool 1'

    assert metric_names(expr) == {"x_bucket", "y_total"}


async def test_every_metric_the_rules_name_is_exported_by_the_app_or_the_worker(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    async with worker_process(database_url, tmp_path) as worker:
        from_worker = exported_samples(await worker.metrics())
    exported = exported_samples((await client.get("/metrics")).text) | from_worker | PROMETHEUS_SERIES

    used = {name: rule["alert"] for rule in _rules() for name in metric_names(rule["expr"])}

    missing = {name: alert for name, alert in used.items() if name not in exported | EXPORTER_SERIES}
    assert not missing, f"rules name metrics /metrics does not export: {missing}"
    assert {"rides_canceled_total", "drivers_available", "webhooks_missed_total", "database_up"} <= set(used)
    assert "ledger_verify_problems" in from_worker  # the worker runs the verification, the API does not
    for rule in _rules():
        if metric_names(rule["expr"]) & EXPORTER_SERIES:  # the exporter is not run by the tests
            assert metric_names(rule["expr"]) & exported, f"{rule['alert']} relies on the exporter alone"
