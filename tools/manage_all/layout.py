"""Where things are: the repository, its services and their default ports."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_DIR = REPO_ROOT / ".venv"
REQUIREMENTS_DIR = REPO_ROOT / "requirements"
GATEWAY_TEMPLATE = REPO_ROOT / "gateway_nginx" / "nginx.conf.template"
DOTENV = REPO_ROOT / ".env"
# The one list of services (libs/mini_common/mini_common/services.py).
SERVICES_FILE = REPO_ROOT / "libs" / "mini_common" / "mini_common" / "services.py"


def load_services_module(path: Path = SERVICES_FILE) -> ModuleType:
    """mini_common's list of services, loaded by its path.

    This tool runs before the virtualenv (where mini_common is installed)
    exists, and so do deploy/compose/make_env.py and the gateway image; the
    module is standard library only, so any Python can run it.
    """
    spec = importlib.util.spec_from_file_location("mini_common_services", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the list of services from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_services = load_services_module()

# Short names, in start order (see mini_common/services.py).
SERVICES: tuple[str, ...] = tuple(_services.SERVICES)
GATEWAY = "gateway"
COMPONENTS: tuple[str, ...] = (*SERVICES, GATEWAY)

DEFAULT_BASE_PORT: int = _services.DEFAULT_BASE_PORT
LOOPBACK = "127.0.0.1"


class ManageError(Exception):
    """A failure reported to the user as a message, without a traceback."""


def default_var_dir(env: dict[str, str] | None = None) -> Path:
    value = (env or {}).get("MINI_VAR_DIR")
    return Path(value).resolve() if value else REPO_ROOT / "var"


def default_ports(base_port: int = DEFAULT_BASE_PORT) -> dict[str, int]:
    """gateway on the base port, then the services in SERVICES order."""
    return {GATEWAY: base_port, **_services.default_ports(base_port)}


def service_dir(name: str) -> Path:
    return REPO_ROOT / f"mini_{name}"


def service_exists(name: str) -> bool:
    return (service_dir(name) / "manage.py").is_file()


def process_name(name: str) -> str:
    """File and display name of a component: mini_auth ... mini_notif, gateway."""
    return name if name == GATEWAY else str(_services.project_name(name))


def component_name(value: str) -> str:
    """Accept 'auth', 'mini_auth' or 'gateway'; return the short name."""
    name = value.removeprefix("mini_")
    if name not in COMPONENTS:
        raise ManageError(f"unknown component {value!r}; expected one of {', '.join(COMPONENTS)}")
    return name


def venv_bin(tool: str) -> Path:
    return VENV_DIR / "bin" / tool
