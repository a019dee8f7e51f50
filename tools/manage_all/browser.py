"""Debian's chromium, which the browser suite (tests/browser) drives through Playwright.

Playwright's own browser download is never used: the suite launches /usr/bin/chromium.
"""

from __future__ import annotations

import os
from pathlib import Path

from .layout import ManageError
from .packages import apt_install

CHROMIUM = Path("/usr/bin/chromium")


def ensure_chromium() -> str:
    """Path of chromium, installing Debian's package when we are root with apt."""
    if os.access(CHROMIUM, os.X_OK):
        return str(CHROMIUM)
    apt_install("chromium", needed_for="the browser suite (tests/browser)")
    if not os.access(CHROMIUM, os.X_OK):
        raise ManageError(f"apt-get installed chromium but {CHROMIUM} is not there")
    return str(CHROMIUM)
