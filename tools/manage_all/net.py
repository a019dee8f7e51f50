"""Loopback networking: health probes, port checks, free ports."""

from __future__ import annotations

import http.client
import socket
import urllib.error
import urllib.request

from .layout import LOOPBACK

# Proxy settings from the environment must not apply: the probes only ever
# talk to loopback addresses.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get_status(url: str, timeout: float = 2.0) -> int | None:
    """HTTP status of GET url, or None when nothing answers."""
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, ValueError, http.client.HTTPException):
        return None


def is_listening(port: int) -> bool:
    """Whether something accepts connections on the loopback port."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]
