"""Runs the mini system on one machine; see manage_all.py at the repository root.

Standard library only: it runs before the virtualenv exists.
"""

from .audit import audit_system
from .layout import COMPONENTS, GATEWAY, REPO_ROOT, SERVICES, ManageError
from .maintenance import purge_system, reconcile_system
from .net import free_port
from .postgres import service_database_urls
from .system import DEMO_PASSWORD, DEMO_USERNAME, System, free_ports

__all__ = [
    "COMPONENTS",
    "DEMO_PASSWORD",
    "DEMO_USERNAME",
    "GATEWAY",
    "REPO_ROOT",
    "SERVICES",
    "ManageError",
    "System",
    "audit_system",
    "free_port",
    "free_ports",
    "purge_system",
    "reconcile_system",
    "service_database_urls",
]
