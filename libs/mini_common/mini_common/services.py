"""The services of mini: their short names and default ports, written here once.

Read by every service's settings (mini_common.settings), by manage_all
(tools/manage_all/layout.py), by the deployment scripts (deploy/compose,
the gateway image) and by the tests. Standard library only and no Django:
the tools that run before the virtualenv exists load this file by its path.

A service's short name ``x`` is its Django project ``mini_x``, its compose
and Kubernetes name ``mini-x``, its ``MINI_X_URL`` and its admin at ``/admin/x/``.
"""

# In start order. It is also the order in which `reconcile` runs them:
# registrations (auth) open the accounts orders are paid from; orders hand
# notifications over; mini_notif then retries what could not be sent.
SERVICES: tuple[str, ...] = ("auth", "user", "billing", "order", "notif")

# The gateway's default port; the services take the next ones, in SERVICES order.
DEFAULT_BASE_PORT = 8000


def default_ports(base_port: int = DEFAULT_BASE_PORT) -> dict[str, int]:
    """Each service's default loopback port: auth 8001, user 8002, ... notif 8005."""
    return {name: base_port + i for i, name in enumerate(SERVICES, start=1)}


def project_name(short: str) -> str:
    """The Django project (and X-Service name) of a service: ``mini_<short>``."""
    return f"mini_{short}"
