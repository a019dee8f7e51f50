"""The repository's virtualenv: created and kept in step with requirements/."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from .layout import REPO_ROOT, REQUIREMENTS_DIR, VENV_DIR, ManageError, venv_bin

STAMP = VENV_DIR / ".requirements.sha256"
# What `pip install -r requirements/dev.txt` depends on besides requirements/.
_EXTRA_INPUTS = (REPO_ROOT / "libs" / "mini_common" / "pyproject.toml",)


def requirements_digest() -> str:
    digest = hashlib.sha256()
    inputs = sorted(REQUIREMENTS_DIR.glob("*.txt")) + [p for p in _EXTRA_INPUTS if p.is_file()]
    for path in inputs:
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


MIN_PYTHON = (3, 11)


def _create() -> None:
    if sys.version_info < MIN_PYTHON:
        raise ManageError(f"the services need Python {'.'.join(map(str, MIN_PYTHON))} or newer")
    print(f"creating {VENV_DIR.name} with {sys.executable}", flush=True)
    result = subprocess.run([sys.executable, "-m", "venv", str(VENV_DIR)], check=False)
    if result.returncode != 0:
        raise ManageError("could not create the virtualenv; on Debian/Ubuntu install python3-venv")


def _install(digest: str) -> None:
    print("installing requirements/dev.txt into .venv", flush=True)
    result = subprocess.run(
        [str(venv_bin("pip")), "install", "-r", "requirements/dev.txt"],
        cwd=REPO_ROOT,
        check=False,
    )
    if result.returncode != 0:
        raise ManageError("pip install -r requirements/dev.txt failed (see above)")
    STAMP.write_text(digest + "\n")


def ensure_venv() -> Path:
    """Create .venv if needed and install requirements when they changed.

    Returns the venv's python.
    """
    if not venv_bin("python").exists():
        _create()
    digest = requirements_digest()
    installed = STAMP.read_text().strip() if STAMP.exists() else None
    if installed != digest:
        _install(digest)
    return venv_bin("python")
