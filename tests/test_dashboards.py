"""The Grafana dashboards under deploy/grafana/dashboards: provisioned by the files docker-compose mounts,
every panel on the provisioned Prometheus data source, and every panel query naming only metrics the
app's /metrics or the worker's really export, with label names their samples carry, after a run that
moves them (a P2P transfer, a boleto paid, card purchases approved and declined, a ride requested and
accepted, the worker's own families)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import yaml

from laura.bank.bills.barcode import build_bank_line
from laura.settings import Settings
from tests.bank.card_network.conftest import API_KEY
from tests.bank.card_network.support import authorize, make_card, purchase
from tests.bank.support import funded_customer
from tests.metrics_support import (
    EXPORTER_SERIES,
    PROMETHEUS_SERIES,
    TARGET_LABELS,
    exported_samples,
    matched_labels,
    metric_names,
    sampled_labels,
)
from tests.mobility.support import accept, admin, driver, passenger, request_ride
from tests.worker_process import worker_process

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
DASHBOARDS = DEPLOY / "grafana" / "dashboards"
SPEC_DASHBOARDS = {"Laura: Overview", "Laura: Operational", "Laura: Financial", "Laura: SLOs", "Laura: Bank"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"card_network_api_keys": [API_KEY]})


def _dashboards() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


def _panels(dashboard: dict) -> list[dict]:
    panels = []
    for panel in dashboard["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))  # a collapsed row keeps its panels inside
    return [panel for panel in panels if panel["type"] != "row"]


def _queries() -> list[tuple[str, str]]:
    """(dashboard file and panel title, expr) for every panel target."""
    return [
        (f"{name}: {panel['title']}", target["expr"])
        for name, dashboard in _dashboards().items()
        for panel in _panels(dashboard)
        for target in panel["targets"]
    ]


def test_compose_mounts_the_provisioning_that_loads_the_dashboards_from_prometheus() -> None:
    grafana = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())["services"]["grafana"]
    mounts = dict(volume.removesuffix(":ro").split(":") for volume in grafana["volumes"])
    provisioning = DEPLOY / "grafana" / "provisioning"
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "laura.yml").read_text())["providers"]

    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    assert mounts["./grafana/dashboards"] == provider["options"]["path"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    for name, dashboard in _dashboards().items():
        for panel in _panels(dashboard):
            datasources = [panel["datasource"], *(target["datasource"] for target in panel["targets"])]
            assert all(ds == {"type": "prometheus", "uid": source["uid"]} for ds in datasources), name
            assert panel["targets"] and all(target["expr"].strip() for target in panel["targets"]), name


def test_the_spec_dashboards_exist_with_unique_uids_and_panel_ids() -> None:
    dashboards = _dashboards().values()

    assert {dashboard["title"] for dashboard in dashboards} == SPEC_DASHBOARDS
    assert len({dashboard["uid"] for dashboard in dashboards}) == len(SPEC_DASHBOARDS)
    for dashboard in dashboards:
        ids = [panel["id"] for panel in _panels(dashboard)]
        assert len(ids) == len(set(ids)), dashboard["title"]


def test_label_names_are_read_from_selectors() -> None:
    expr = 'sum by (type) (rate(transfers_total{type="PIX",status=~"FAIL.*"}[5m])) / sum(up{job="a,b"})'

    assert matched_labels(expr) == {"transfers_total": {"type", "status"}, "up": {"job"}}
    assert sampled_labels('x_total{a="1",b="x,y"} 2.0\ny 1\n') == {"x_total": {"a", "b"}, "y": set()}


async def _exercise(app, client: httpx.AsyncClient) -> None:
    """Move the labelled families the dashboards select on: a P2P transfer, a boleto paid, a card purchase
    approved and one declined, a ride requested and accepted."""
    payer_user, payer = await funded_customer(app, client, "50.00")
    payee, _ = await funded_customer(app, client)
    body = {"recipientUserId": payee["id"], "amount": 5}
    sent = await client.post("/api/transfers/p2p", json=body, headers=payer)
    assert sent.status_code == 201, sent.text
    due = datetime.now(UTC).date() + timedelta(days=10)
    line = build_bank_line("341", Decimal("10.00"), due, f"{uuid.uuid4().int % 10**25:025d}")
    paid = await client.post("/api/bills/pay", json={"barcode": line, "amount": 10}, headers=payer)
    assert paid.status_code == 201, paid.text
    card = await make_card(app, payer_user["id"])
    assert (await authorize(client, purchase(card, "1.00")))["approved"] is True
    assert (await authorize(client, purchase(card, "900.00")))["approved"] is False
    near = await driver(client, await admin(app, client))
    _, rider = await passenger(client)
    ride = await request_ride(client, rider)
    assert ride.status_code == 201, ride.text
    accepted = await accept(client, near, ride.json()["id"])
    assert accepted.status_code == 200, accepted.text


async def test_every_panel_query_names_metrics_and_labels_the_app_or_the_worker_exports(
    app, client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    await _exercise(app, client)
    from_app = (await client.get("/metrics")).text
    async with worker_process(database_url, tmp_path) as worker:
        from_worker = await worker.metrics()
    exported = exported_samples(from_app) | exported_samples(from_worker) | PROMETHEUS_SERIES
    labels = sampled_labels(from_app)

    missing, unknown_labels, per_panel = {}, {}, {}
    for where, expr in _queries():
        names = metric_names(expr)
        assert names, f"{where}: {expr!r} names no metric"
        per_panel.setdefault(where, set()).update(names)
        if names - exported - EXPORTER_SERIES:
            missing[where] = sorted(names - exported - EXPORTER_SERIES)
        for name, matched in matched_labels(expr).items():
            if name in labels and matched - labels[name] - TARGET_LABELS:
                unknown_labels[where] = sorted(matched - labels[name] - TARGET_LABELS)
        grouped = set(re.findall(r"\bby\s*\(([^)]*)\)", expr))
        for name in names & labels.keys() if len(names) == 1 else ():
            by = {label.strip() for group in grouped for label in group.split(",")} - {"le"}
            if by - labels[name] - TARGET_LABELS:
                unknown_labels[where] = sorted(by - labels[name] - TARGET_LABELS)

    for where, names in per_panel.items():
        if names & EXPORTER_SERIES:  # the exporter is not run by the tests: an app metric must say the same
            assert names & exported, f"{where} relies on the PostgreSQL exporter alone"
    assert not missing, f"panels name metrics no /metrics exports: {missing}"
    assert not unknown_labels, f"panels name labels the samples do not carry: {unknown_labels}"
    sampled = {"transfers_total", "bill_payments_total", "card_authorizations_total", "rides_created_total",
               "rides_accepted_total", "http_requests_total"}  # fmt: skip
    assert sampled <= labels.keys()
