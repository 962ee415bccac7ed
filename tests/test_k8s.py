"""deploy/k8s as data, no cluster needed: every document against the Kubernetes API's own schemas
(kubernetes-validate, offline), `kubectl kustomize` renders what the files hold when kubectl is on PATH,
and the checks no schema makes: probes, resources, non-root, selectors that match, an HPA and PDBs aimed
at real Deployments, the commands, and only real settings in the ConfigMap, the Secret and env."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from laura.settings import Settings

K8S = Path(__file__).resolve().parents[1] / "deploy" / "k8s"
KINDS = {
    "Namespace",
    "ConfigMap",
    "Secret",
    "PersistentVolumeClaim",
    "Deployment",
    "Service",
    "Job",
    "CronJob",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "NetworkPolicy",
    "Ingress",
}
SETTINGS = {f"LAURA_{name.upper()}" for name in Settings.model_fields}


def _documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _kustomization() -> dict:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def _applied() -> list[dict]:
    """Every document `kubectl apply -k deploy/k8s` applies, in the kustomization's order."""
    return [doc for name in _kustomization()["resources"] for doc in _documents(K8S / name)]


def _all() -> list[dict]:
    """The applied documents and the Secret's template."""
    return [*_applied(), *_documents(K8S / "secret.example.yaml")]


def _by_kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in _all() if doc["kind"] == kind}


def _pod_template(doc: dict) -> dict:
    spec = doc["spec"]["jobTemplate"]["spec"] if doc["kind"] == "CronJob" else doc["spec"]
    return spec["template"]


def _pod_specs() -> dict[str, dict]:
    workloads = {**_by_kind("Deployment"), **_by_kind("Job"), **_by_kind("CronJob")}
    return {name: _pod_template(doc) for name, doc in workloads.items()}


def _containers() -> dict[str, dict]:
    return {
        f"{workload}/{c['name']}": c
        for workload, pod in _pod_specs().items()
        for c in pod["spec"]["containers"]
    }


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def test_every_manifest_file_is_applied_or_is_the_secrets_template():
    listed = set(_kustomization()["resources"])
    on_disk = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert listed == on_disk


def test_every_document_passes_the_kubernetes_schemas():
    validate = pytest.importorskip(
        "kubernetes_validate", reason="kubernetes-validate (the test extra) carries the API's schemas"
    )
    for doc in _all():
        validate.validate(doc, "1.30.0", strict=True)


def test_kustomize_renders_every_document_into_the_namespace():
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not on PATH: the kustomization is checked as data only")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(K8S)], check=False, capture_output=True, text=True, timeout=60
    )
    assert rendered.returncode == 0, rendered.stderr
    docs = [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
    assert sorted((d["kind"], d["metadata"]["name"]) for d in docs) == sorted(
        (d["kind"], d["metadata"]["name"]) for d in _applied()
    )
    namespaced = [d for d in docs if d["kind"] != "Namespace"]
    assert {d["metadata"]["namespace"] for d in namespaced} == {"laura"}
    workloads = [d for d in docs if d["kind"] in ("Deployment", "Job", "CronJob")]
    images = {c["image"] for d in workloads for c in _pod_template(d)["spec"]["containers"]}
    assert images == {"registry.example.com/laura:0.1.0"}


def test_documents_are_of_known_kinds_with_names():
    for doc in _all():
        assert doc.get("apiVersion") and doc.get("metadata", {}).get("name"), doc
        assert doc["kind"] in KINDS, doc["kind"]


def test_every_container_has_resources_a_non_root_user_and_a_read_only_root():
    for name, pod in _pod_specs().items():
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True, name
        assert pod["spec"]["automountServiceAccountToken"] is False, name
    for name, container in _containers().items():
        assert container["image"] == "laura", f"{name}: kustomization.yaml sets the image once"
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(
            resources["limits"]
        )
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"], name
        mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
        assert "/tmp" in mounts, f"{name}: a read-only root needs a writable /tmp"


def test_the_api_serves_with_health_and_ready_probes_and_the_worker_its_metrics():
    containers = _containers()
    api, worker, migrate = (
        containers["laura-api/api"],
        containers["laura-worker/worker"],
        containers["laura-migrate/migrate"],
    )
    assert api["command"][:2] == ["laura", "serve"]
    assert api["livenessProbe"]["httpGet"]["path"] == "/health"
    assert api["startupProbe"]["httpGet"]["path"] == "/health"
    assert api["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert worker["command"] == ["laura", "worker", "--metrics-port", "9100"]
    assert worker["ports"] == [{"name": "metrics", "containerPort": 9100}]
    assert worker["livenessProbe"]["httpGet"]["port"] == "metrics"
    assert migrate["command"] == ["laura", "migrate"]
    backup = containers["laura-backup/backup"]
    assert backup["command"][-1].startswith('laura backup "/backups/')
    assert {"name": "backups", "mountPath": "/backups"} in backup["volumeMounts"]
    assert _by_kind("CronJob")["laura-backup"]["spec"]["concurrencyPolicy"] == "Forbid"
    for name, container in containers.items():
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            port = container.get(probe, {}).get("httpGet", {}).get("port")
            assert port is None or port in {p["name"] for p in container["ports"]}, f"{name} {probe}"


def test_only_real_settings_are_configured():
    config = _by_kind("ConfigMap")["laura-config"]["data"]
    secret = _by_kind("Secret")["laura-secrets"]["stringData"]
    assert not set(config) - SETTINGS, set(config) - SETTINGS
    assert not set(secret) - SETTINGS, set(secret) - SETTINGS
    assert not set(config) & set(secret), "a setting in both would depend on envFrom's order"
    assert {"LAURA_SECRET_KEY", "LAURA_DATABASE_URL", "LAURA_PSP_WEBHOOK_SECRET"} <= set(secret)
    assert not {"LAURA_SECRET_KEY", "LAURA_DATABASE_URL"} & set(config)
    Settings(_env_file=None, **{key[len("LAURA_") :].lower(): value for key, value in config.items()})
    for name, container in _containers().items():
        env = {item["name"] for item in container.get("env", [])}
        assert not env - SETTINGS, f"{name} sets unknown settings {env - SETTINGS}"
        refs = [(next(iter(ref)), next(iter(ref.values()))["name"]) for ref in container["envFrom"]]
        assert refs == [("configMapRef", "laura-config"), ("secretRef", "laura-secrets")], name


def test_selectors_match_their_pods_and_services_name_real_ports():
    deployments = _by_kind("Deployment")
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert _matches(deployment["spec"]["selector"]["matchLabels"], labels), name
    pods = {name: d["spec"]["template"] for name, d in deployments.items()}
    for name, service in _by_kind("Service").items():
        targets = [p for p in pods.values() if _matches(service["spec"]["selector"], p["metadata"]["labels"])]
        assert len(targets) == 1, f"service {name} selects {len(targets)} deployments"
        ports = {p["name"] for c in targets[0]["spec"]["containers"] for p in c["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports, name
    for name, budget in _by_kind("PodDisruptionBudget").items():
        selector = budget["spec"]["selector"]["matchLabels"]
        assert any(_matches(selector, p["metadata"]["labels"]) for p in pods.values()), name
    claims = set(_by_kind("PersistentVolumeClaim"))
    for name, pod in _pod_specs().items():
        used = {
            v["persistentVolumeClaim"]["claimName"]
            for v in pod["spec"]["volumes"]
            if "persistentVolumeClaim" in v
        }
        assert used <= claims, name


def test_the_api_scales_on_cpu_and_on_the_request_rate_prometheus_adapter_serves():
    hpas = _by_kind("HorizontalPodAutoscaler")
    deployments = _by_kind("Deployment")
    for name, hpa in hpas.items():
        target = hpa["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment" and target["name"] in deployments, name
        replicas = deployments[target["name"]]["spec"]["replicas"]
        assert hpa["spec"]["minReplicas"] <= replicas <= hpa["spec"]["maxReplicas"], name
    metrics = {m["type"]: m for m in hpas["laura-api"]["spec"]["metrics"]}
    assert metrics["Resource"]["resource"]["name"] == "cpu"
    pods_metric = metrics["Pods"]["pods"]["metric"]["name"]
    adapter = yaml.safe_load((K8S / "prometheus-adapter" / "values.yaml").read_text())
    [rule] = adapter["rules"]["custom"]
    assert rule["name"]["as"] == pods_metric == "http_requests_per_second"
    from laura.core.observability import HTTP_REQUESTS

    assert rule["seriesQuery"].startswith(f"{HTTP_REQUESTS.describe()[0].name}_total{{")


def test_network_policies_deny_by_default_and_open_the_api_to_the_ingress_only():
    policies = _by_kind("NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    api = policies["laura-api-ingress"]["spec"]
    assert api["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "laura-api"}
    sources = [peer["namespaceSelector"]["matchLabels"] for rule in api["ingress"] for peer in rule["from"]]
    assert sources == [
        {"kubernetes.io/metadata.name": "ingress-nginx"},
        {"kubernetes.io/metadata.name": "monitoring"},
    ]
    egress_ports = {p["port"] for rule in policies["laura-egress"]["spec"]["egress"] for p in rule["ports"]}
    assert {53, 5432, 6379, 443} <= egress_ports
    backend = _by_kind("Ingress")["laura-api"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] in _by_kind("Service")
