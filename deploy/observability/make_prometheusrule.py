#!/usr/bin/env python3
"""Write deploy/k8s/monitoring/prometheusrule.yaml from rules.yml (standard library only).

The Prometheus Operator's PrometheusRule holds the rule groups under `spec`;
the file is rules.yml indented one level, comments included, so the alerts
are written once. Run it after changing rules.yml:

    python3 deploy/observability/make_prometheusrule.py

tests/deploy/test_observability.py fails while the two differ.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
RULES = HERE / "rules.yml"
TARGET = HERE.parent / "k8s" / "monitoring" / "prometheusrule.yaml"

HEADER = """\
# Generated from deploy/observability/rules.yml by
# deploy/observability/make_prometheusrule.py: change rules.yml, then run it.
# mini's alerts for the Prometheus Operator (runbooks: docs/operations.md, "Alerts").
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: mini
spec:
"""


def render(rules_text: str) -> str:
    """The PrometheusRule: rules.yml's content after its header comment, under `spec:`."""
    lines = rules_text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("groups:"))
    body = "\n".join(f"  {line}" if line.strip() else "" for line in lines[start:])
    return HEADER + body + "\n"


def main() -> None:
    TARGET.write_text(render(RULES.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(HERE.parents[1])}")


if __name__ == "__main__":
    main()
