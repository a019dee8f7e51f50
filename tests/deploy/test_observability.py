"""deploy/observability and deploy/k8s/monitoring: alerts, scrape configuration, dashboard.

- promtool (Debian's `prometheus` package, which .ci/run installs) checks the
  rules, runs their unit tests (rules_test.yml) and checks prometheus.yml;
  these tests skip, saying so, only where promtool is not installed;
- every metric the rules and the dashboard name is one the services export:
  each service's settings are loaded (django.setup() in a subprocess) and
  asked for mini_common.metrics.exported_names(); those with a `reconcile`
  command export its last run, which MiniReconcileFailing watches;
- the PrometheusRule is rules.yml, the ServiceMonitor finds the five API
  Services, and the monitoring objects validate against the Prometheus
  Operator's schemas (tests/deploy/prometheus_operator_crds.yaml) and
  Kubernetes' own, strictly.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from mini_common.services import default_ports
from tests.deploy.support import (
    K8S_DIR,
    K8S_SCHEMA_VERSION,
    OVERLAYS,
    REPO_ROOT,
    SERVICES,
    named,
    namespace,
    objects,
    render_overlay,
)
from tests.deploy.test_network import Pod, connects

OBSERVABILITY = REPO_ROOT / "deploy" / "observability"
RULES = OBSERVABILITY / "rules.yml"
RULES_TEST = OBSERVABILITY / "rules_test.yml"
SCRAPE_CONFIG = OBSERVABILITY / "prometheus.yml"
DASHBOARD = OBSERVABILITY / "grafana-dashboard.json"
PROMETHEUSRULE = K8S_DIR / "monitoring" / "prometheusrule.yaml"
OPERATIONS = REPO_ROOT / "docs" / "operations.md"
CRD_SCHEMAS = Path(__file__).with_name("prometheus_operator_crds.yaml")

# What the alerts are for (one each): breaker, 5xx, p99 per route, NEW orders,
# notifications owed, reconcile.
ALERTS = {
    "MiniCircuitOpen",
    "MiniHigh5xxRate",
    "MiniSlowRoute",
    "MiniOrdersStuckNew",
    "MiniNotificationsOwed",
    "MiniReconcileFailing",
}

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is not installed (Debian: apt-get install prometheus; .ci/run installs it)",
)


def promtool(*args: str | Path, cwd: Path = OBSERVABILITY) -> subprocess.CompletedProcess:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(RULES)["groups"] for rule in group["rules"]]


def dashboard_targets() -> list[tuple[str, dict[str, Any]]]:
    """(panel title, target) of every query of the dashboard."""
    panels = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    return [(panel["title"], target) for panel in panels for target in panel["targets"]]


# --- PromQL: the metric names an expression reads -------------------------------------

KEYWORDS = {"and", "or", "unless", "bool", "offset", "group_left", "group_right", "inf", "nan"}
GROUPING = r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"


def metric_names(expr: str) -> set[str]:
    """The metric names in a PromQL expression: identifiers that are not functions,
    keywords, label names (in matchers or groupings), strings or durations."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(GROUPING, " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        if text[match.end() :].lstrip().startswith("(") or match.group() in KEYWORDS:
            continue  # a function or an aggregation, or an operator
        names.add(match.group())
    return names


def test_metric_names_finds_the_metrics_and_only_them():
    expr = (
        'sum by (job, le) (rate(a_total{status=~"5..", route!="x"}[$__rate_interval]))'
        " / on (job) group_left b_seconds > bool 0.99 and c offset 5m unless time() - d:rec"
    )
    assert metric_names(expr) == {"a_total", "b_seconds", "c", "d:rec"}


@pytest.fixture(scope="module")
def exported_by_service(tmp_path_factory) -> dict[str, set[str]]:
    """{service's short name: every sample name its /metrics can answer (its declarations)}."""
    snippet = (
        "import django, json; django.setup(); from mini_common.metrics import exported_names; "
        "print(json.dumps(sorted(exported_names())))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "MINI_VAR_DIR": str(tmp_path_factory.mktemp("var")),
    }
    env.pop("DATABASE_URL", None)  # a service's default SQLite file under MINI_VAR_DIR
    runs = {
        short: subprocess.Popen(
            [sys.executable, "-c", snippet],
            cwd=REPO_ROOT / f"mini_{short}",
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for short in SERVICES
    }
    names: dict[str, set[str]] = {}
    for short, run in runs.items():
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, f"mini_{short}: {err}"
        names[short] = set(json.loads(out.splitlines()[-1]))
    # The services' own gauges are among them (a guard on the fixture itself).
    assert "mini_orders_new_oldest_age_seconds" in names["order"]
    assert "mini_notifications_owed" in names["notif"]
    return names


@pytest.fixture(scope="module")
def exported(exported_by_service) -> set[str]:
    """Every sample name one of the five services' /metrics can answer."""
    return set().union(*exported_by_service.values())


# --- the alerts -------------------------------------------------------------------------


@needs_promtool
def test_promtool_checks_the_rules():
    result = promtool("check", "rules", RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in result.stdout


@needs_promtool
def test_promtool_runs_the_alerts_unit_tests():
    result = promtool("test", "rules", RULES_TEST.name)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_checks_the_scrape_configuration():
    result = promtool("check", "config", SCRAPE_CONFIG.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alerts_asked_for_each_with_severity_summary_description_and_runbook():
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} == ALERTS
    assert len(rules) == len(ALERTS)
    anchors = runbook_anchors()
    for rule in rules:
        name, annotations = rule["alert"], rule["annotations"]
        assert rule["labels"]["severity"] in ("warning", "critical"), name
        assert annotations["summary"].strip() and annotations["description"].strip(), name
        page, _, anchor = annotations["runbook_url"].partition("#")
        assert page == "docs/operations.md", name
        assert anchor in anchors, f"{name}: docs/operations.md has no ### heading #{anchor}"
        assert anchor == slug(name), f"{name}: its runbook is its own section"


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def runbook_anchors() -> set[str]:
    """Anchors of the ### headings in the "## Alerts" section of docs/operations.md."""
    text = OPERATIONS.read_text(encoding="utf-8")
    section = re.search(r"^## Alerts\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert section, "docs/operations.md has no ## Alerts section"
    return {slug(h) for h in re.findall(r"^### (.+)$", section.group(1), re.M)}


def test_every_alert_is_tested_firing_and_not_firing():
    fires, silent = set(), set()
    for case in load_yaml(RULES_TEST)["tests"]:
        for check in case.get("alert_rule_test", []):
            (fires if check.get("exp_alerts") else silent).add(check["alertname"])
    assert fires == ALERTS, f"no case where these fire: {ALERTS - fires}"
    assert silent == ALERTS, f"no case where these stay silent: {ALERTS - silent}"
    assert load_yaml(RULES_TEST)["rule_files"] == [RULES.name]


def test_the_rules_read_only_metrics_the_services_export(exported):
    for rule in alert_rules():
        names = metric_names(rule["expr"])
        assert names, f"{rule['alert']}: no metric found in its expression"
        assert names <= exported, f"{rule['alert']}: not exported: {names - exported}"


RECONCILE_SERIES = {
    f"mini_reconcile_last_{what}_timestamp_seconds" for what in ("start", "success", "failure")
}


def test_every_service_with_a_reconcile_command_exports_its_last_run(exported_by_service):
    # MiniReconcileFailing watches whichever job exports the series: a service whose
    # reconcile does not record its runs would fail unseen.
    with_command = {
        short
        for short in SERVICES
        if list((REPO_ROOT / f"mini_{short}").glob("*/management/commands/reconcile.py"))
    }
    exporting = {short for short, names in exported_by_service.items() if RECONCILE_SERIES <= names}
    assert with_command == {"auth", "order", "notif"}  # a guard on the glob itself
    assert exporting == with_command


# --- the scrape configuration ----------------------------------------------------------


def test_the_scrape_configuration_asks_each_service_where_up_runs_it():
    config = load_yaml(SCRAPE_CONFIG)
    assert config["rule_files"] == [RULES.name]
    jobs = {}
    for job in config["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics"
        # /metrics needs no credentials (no X-Internal-Token, like /healthz).
        assert not {"authorization", "basic_auth", "bearer_token"} & set(job), job["job_name"]
        (static,) = job["static_configs"]
        jobs[job["job_name"]] = static["targets"]
    assert jobs == {
        f"mini-{short}": [f"127.0.0.1:{port}"] for short, port in default_ports().items()
    }


# --- the dashboard -----------------------------------------------------------------------


def test_the_dashboard_is_grafana_json_on_a_chosen_prometheus():
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    (variable,) = dashboard["templating"]["list"]
    assert (variable["name"], variable["type"], variable["query"]) == (
        "datasource",
        "datasource",
        "prometheus",
    )
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels), "panel ids repeat"
    taken: set[tuple[int, int]] = set()
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        box = panel["gridPos"]
        assert box["x"] + box["w"] <= 24, f"{panel['title']}: wider than the dashboard"
        cells = {
            (x, y)
            for x in range(box["x"], box["x"] + box["w"])
            for y in range(box["y"], box["y"] + box["h"])
        }
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells


def groupings(expr: str) -> list[set[str]]:
    return [
        {label.strip() for label in labels.split(",")}
        for labels in re.findall(r"\bby\s*\(([^)]*)\)", expr)
    ]


@pytest.mark.parametrize(
    ("metric", "labels"),
    [
        ("mini_orders_total", {"status"}),  # orders by status
        ("mini_http_request_duration_seconds_bucket", {"route", "le"}),  # latency by route
        ("mini_client_calls_total", {"target", "outcome"}),  # calls by target and outcome
        ("mini_breaker_state", {"target"}),  # breaker state
        ("mini_client_retries_total", {"target"}),  # retries
    ],
)
def test_the_dashboard_shows_what_was_asked_for(metric, labels):
    found = [
        title
        for title, target in dashboard_targets()
        if metric in metric_names(target["expr"])
        and any(labels <= grouping for grouping in groupings(target["expr"]))
    ]
    assert found, f"no panel shows {metric} by {sorted(labels)}"


def test_the_dashboard_reads_only_metrics_the_services_export(exported):
    for title, target in dashboard_targets():
        names = metric_names(target["expr"])
        assert names, f"{title}: no metric found in {target['expr']}"
        assert names <= exported, f"{title}: not exported: {names - exported}"


@needs_promtool
def test_promtool_parses_every_dashboard_expression(tmp_path):
    rules = []
    for index, (title, target) in enumerate(dashboard_targets()):
        # Grafana's interval variable; no other variable may appear in a query.
        expr = target["expr"].replace("$__rate_interval", "5m")
        assert "$" not in expr, f"{title}: unknown variable in {expr}"
        rules.append({"record": f"dashboard:query_{index}", "expr": expr})
    rules_file = tmp_path / "dashboard_rules.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = promtool("check", "rules", rules_file, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


# --- Kubernetes: PrometheusRule, ServiceMonitor, NetworkPolicy -------------------------

MONITORING = [f"{overlay}/monitoring" for overlay in OVERLAYS]


def test_the_prometheusrule_file_is_generated_from_rules_yml():
    spec = importlib.util.spec_from_file_location(
        "make_prometheusrule", OBSERVABILITY / "make_prometheusrule.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = module.render(RULES.read_text(encoding="utf-8"))
    assert PROMETHEUSRULE.read_text(encoding="utf-8") == expected, (
        "run python3 deploy/observability/make_prometheusrule.py"
    )


@pytest.mark.parametrize("monitoring", MONITORING)
def test_the_rendered_prometheusrule_holds_the_groups_of_rules_yml(monitoring):
    rule = named(monitoring, "PrometheusRule", "mini")
    assert rule["spec"]["groups"] == load_yaml(RULES)["groups"]


def strict(schema: Any) -> Any:
    """The schema with unknown fields refused (Kubernetes would drop them silently)."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    tightened = {key: strict(value) for key, value in schema.items()}
    if "properties" in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
        tightened.setdefault("additionalProperties", False)
    return tightened


def crd_errors(obj: dict[str, Any]) -> list[str]:
    schema = strict(load_yaml(CRD_SCHEMAS)[obj["kind"]])
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{obj['kind']} {obj['metadata']['name']}: {'.'.join(map(str, e.path))}: {e.message}"
        for e in validator.iter_errors(obj)
    ]


@pytest.mark.parametrize("monitoring", MONITORING)
def test_the_monitoring_objects_validate_strictly(monitoring):
    rendered = render_overlay(monitoring)
    assert sorted(obj["kind"] for obj in rendered) == [
        "NetworkPolicy",
        "PrometheusRule",
        "ServiceMonitor",
    ]
    errors = []
    for obj in rendered:
        if obj["apiVersion"] == "monitoring.coreos.com/v1":
            errors += crd_errors(obj)
        else:
            try:
                kubernetes_validate.validate(obj, K8S_SCHEMA_VERSION, strict=True)
            except kubernetes_validate.ValidationError as error:
                errors.append(f"{obj['kind']}: {error.message}")
    assert not errors, "\n".join(errors)


def test_the_crd_schemas_refuse_unknown_fields():
    monitor = named("prod/monitoring", "ServiceMonitor", "mini")
    assert crd_errors(monitor) == []
    misspelt = json.loads(json.dumps(monitor))
    misspelt["spec"]["endpoints"][0]["pathh"] = "/metrics"
    assert crd_errors(misspelt), "an unknown field passed"


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return selector["matchLabels"].items() <= labels.items()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_servicemonitor_scrapes_the_five_api_services(overlay):
    monitoring = f"{overlay}/monitoring"
    monitor = named(monitoring, "ServiceMonitor", "mini")
    ns = namespace(overlay)
    assert monitor["metadata"]["namespace"] == ns  # selects Services of its own namespace
    spec = monitor["spec"]
    selected = [
        service
        for service in objects(overlay, "Service")
        if _selects(spec["selector"], service["metadata"]["labels"])
    ]
    assert sorted(s["metadata"]["name"] for s in selected) == sorted(
        f"mini-{short}" for short in SERVICES
    )
    (endpoint,) = spec["endpoints"]
    assert endpoint["path"] == "/metrics"
    for service in selected:
        # job="mini-<service>": the job names of prometheus.yml and the rules' grouping.
        assert service["metadata"]["labels"][spec["jobLabel"]] == service["metadata"]["name"]
        assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
    rule = named(monitoring, "PrometheusRule", "mini")
    assert monitor["metadata"]["labels"]["release"] == rule["metadata"]["labels"]["release"], (
        "a Prometheus selecting one must select the other"
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_prometheus_reaches_every_api_pod_and_nothing_else_opens(overlay):
    base = objects(overlay, "NetworkPolicy")
    policies = base + objects(f"{overlay}/monitoring", "NetworkPolicy")
    ns = namespace(overlay)
    pods = {
        short: Pod(
            ns,
            named(overlay, "Deployment", f"mini-{short}")["spec"]["template"]["metadata"]["labels"],
        )
        for short in SERVICES
    }
    prometheus = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
    strangers = [
        Pod("monitoring", {"app.kubernetes.io/name": "grafana"}),
        Pod("default", {"app.kubernetes.io/name": "prometheus"}),
    ]
    for short, pod in pods.items():
        assert connects(policies, prometheus, pod), f"Prometheus cannot scrape mini-{short}"
        assert not connects(policies, prometheus, pod, port=5432)
        for stranger in strangers:
            assert not connects(policies, stranger, pod), f"{stranger} reaches mini-{short}"
        for other_short, other in pods.items():  # no new path between the services
            assert connects(policies, other, pod) == connects(base, other, pod), (
                f"mini-{other_short} -> mini-{short} changed"
            )
