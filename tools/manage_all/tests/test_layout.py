"""The one list of services: mini_common's, which this tool loads by its path."""

import ast
import subprocess
import sys

from mini_common import services
from tools.manage_all import layout, maintenance


def test_the_tool_reads_mini_commons_list_and_ports():
    assert layout.SERVICES == services.SERVICES
    assert layout.default_ports() == {"gateway": 8000, **services.default_ports()}
    assert layout.default_ports(9000)["notif"] == 9000 + len(services.SERVICES)
    assert [layout.process_name(s) for s in layout.SERVICES] == [
        services.project_name(s) for s in services.SERVICES
    ]


def test_the_list_imports_nothing_so_any_python_can_load_it():
    """manage_all, make_env.py and the gateway image load it before any virtualenv exists."""
    tree = ast.parse(layout.SERVICES_FILE.read_text())
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
    loaded = subprocess.run(
        [
            sys.executable,
            "-S",  # no site-packages: mini_common is not installed for it
            "-c",
            "from tools.manage_all import layout; print(' '.join(layout.SERVICES))",
        ],
        cwd=layout.REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.split() == list(services.SERVICES)


def test_reconcile_runs_registrations_then_orders_then_notifications():
    order = maintenance.RECONCILE_ORDER
    assert order.index("auth") < order.index("order") < order.index("notif")
