"""Ports and addresses: from the environment, never hard-coded in rxconfig."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

DEFAULT_FRONTEND_PORT = 3000
DEFAULT_BACKEND_PORT = 8000
DEFAULT_PROD_PORT = 8000
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


class PortError(Exception):
    """Raised when a port setting is invalid or the port is taken."""


def env_port(*names: str, default: int) -> int:
    """Return the first of the environment variables `names` that is set, as a port.

    Raises:
        PortError: When the value is not a number in 1..65535.
    """
    for name in names:
        raw = os.environ.get(name, "").strip()
        if not raw:
            continue
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise PortError(f"{name}={raw!r} is not a port number (1-65535)")
        return int(raw)
    return default


def origin(url: str) -> str:
    """Return the scheme://host[:port] part of `url` (what browsers send as Origin)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def local_port_of(url: str) -> int | None:
    """Return the explicit port of `url` when its host is this machine, else None."""
    parts = urlsplit(url)
    return parts.port if parts.hostname in LOCAL_HOSTS else None


def ensure_free(port: int, what: str, host: str = "127.0.0.1") -> None:
    """Fail with a clear message when something already listens on `port`.

    Raises:
        PortError: When the port is in use.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise PortError(
                f"port {port} for the {what} is in use; stop what runs there or choose "
                "another port (see docs/operations.md)"
            ) from None


def free_port(host: str = "127.0.0.1") -> int:
    """Return a port that was free a moment ago (for tests and benchmarks)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
