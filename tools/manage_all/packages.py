"""Debian packages the system and its tests run (nginx, chromium, wrk), installed on demand."""

from __future__ import annotations

import os
import shutil
import subprocess

from .layout import ManageError


def apt_install(package: str, *, needed_for: str) -> None:
    """``apt-get install -y package`` when we are root with apt; else say how to install it.

    Callers check first whether the program is there: this always installs.
    """
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise ManageError(
            f"{package} is not installed; {needed_for} needs it.\n"
            f"  sudo apt-get install -y {package}      # Debian/Ubuntu"
        )
    print(f"{package} missing: installing it with apt-get", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=env)
