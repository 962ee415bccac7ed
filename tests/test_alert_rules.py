"""deploy/prometheus/alerts.yml is valid (`promtool check rules`), its unit tests pass (`promtool test rules
deploy/prometheus/alerts_test.yml`: each of the spec's four critical alerts fires on its scenario and not on
a healthy one), every metric its expressions name is one the app's /metrics really exports, and every
runbook link points at a section of docs/operations.md."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts_test.yml"
CRITICAL = {"HighRideCancellationRate", "NoDriversAvailable", "WebhooksMissed", "HighPayoutFailureRate"}


def _rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip(
            "promtool is not on PATH (Debian's `prometheus` package has it): the rules are not checked"
        )
    return found


def test_promtool_checks_the_rules() -> None:
    checked = subprocess.run(
        [_promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_promtool_unit_tests_of_the_four_critical_alerts_pass() -> None:
    tested = subprocess.run(
        [_promtool(), "test", "rules", RULE_TESTS.name],
        capture_output=True,
        text=True,
        check=False,
        cwd=RULE_TESTS.parent,
    )

    assert tested.returncode == 0, tested.stdout + tested.stderr
    covered = {test["alertname"] for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]
               for test in case["alert_rule_test"]}  # fmt: skip
    assert CRITICAL <= covered


def test_the_four_critical_alerts_have_for_severity_summary_and_a_runbook_section() -> None:
    rules = {rule["alert"]: rule for rule in _rules()}
    anchors = {
        "alert-" + re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
        for heading in re.findall(
            r"^#+ Alert: (.+)$", (ROOT / "docs" / "operations.md").read_text(), re.MULTILINE
        )
    }

    assert CRITICAL <= set(rules)
    for name in CRITICAL:
        rule = rules[name]
        assert "for" in rule and rule["labels"]["severity"] in {"page", "ticket"}, name
        assert rule["annotations"]["summary"], name
        page, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert page == "docs/operations.md" and anchor in anchors, f"{name}: no section {anchor!r}"


def test_metric_names_are_read_from_expressions() -> None:
    expr = 'histogram_quantile(0.99, sum by (le) (rate(x_bucket{a="b(c)"}[5m]))) / on(job) y_total > bool 1'

    assert metric_names(expr) == {"x_bucket", "y_total"}


async def test_every_metric_the_rules_name_is_exported_by_the_app(client: httpx.AsyncClient) -> None:
    exported = exported_samples((await client.get("/metrics")).text)

    used = {name: rule.get("alert") for rule in _rules() for name in metric_names(rule["expr"])}

    missing = {name: alert for name, alert in used.items() if name not in exported}
    assert not missing, f"rules name metrics /metrics does not export: {missing}"
    assert {"rides_canceled_total", "drivers_available", "webhooks_missed_total"} <= set(used)
