"""Where things are: the repository, its services and their default ports."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_DIR = REPO_ROOT / ".venv"
REQUIREMENTS_DIR = REPO_ROOT / "requirements"
GATEWAY_TEMPLATE = REPO_ROOT / "gateway_nginx" / "nginx.conf.template"
DOTENV = REPO_ROOT / ".env"

# Short names, in start order: mini_auth calls the others only on requests,
# so the order matters for readability of logs, not for correctness.
SERVICES: tuple[str, ...] = ("auth", "user", "billing", "order", "notif")
GATEWAY = "gateway"
COMPONENTS: tuple[str, ...] = (*SERVICES, GATEWAY)

DEFAULT_BASE_PORT = 8000
LOOPBACK = "127.0.0.1"


class ManageError(Exception):
    """A failure reported to the user as a message, without a traceback."""


def default_var_dir(env: dict[str, str] | None = None) -> Path:
    value = (env or {}).get("MINI_VAR_DIR")
    return Path(value).resolve() if value else REPO_ROOT / "var"


def default_ports(base_port: int = DEFAULT_BASE_PORT) -> dict[str, int]:
    """gateway on the base port, then the services in SERVICES order."""
    ports = {GATEWAY: base_port}
    ports.update({name: base_port + i for i, name in enumerate(SERVICES, start=1)})
    return ports


def service_dir(name: str) -> Path:
    return REPO_ROOT / f"mini_{name}"


def service_exists(name: str) -> bool:
    return (service_dir(name) / "manage.py").is_file()


def process_name(name: str) -> str:
    """File and display name of a component: mini_auth ... mini_notif, gateway."""
    return name if name == GATEWAY else f"mini_{name}"


def component_name(value: str) -> str:
    """Accept 'auth', 'mini_auth' or 'gateway'; return the short name."""
    name = value.removeprefix("mini_")
    if name not in COMPONENTS:
        raise ManageError(f"unknown component {value!r}; expected one of {', '.join(COMPONENTS)}")
    return name


def venv_bin(tool: str) -> Path:
    return VENV_DIR / "bin" / tool
