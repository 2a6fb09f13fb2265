"""Drive the real app's Reflex backend over its websocket, as a browser (or an attacker) would.

`start_backend()` runs the app's backend alone in this process (no frontend build), and
`ReflexSocket` connects to its `/_event` endpoint, sends events with any payload (also ones
no form would send) and applies the state deltas it receives. The backend runs a page's
on_load handlers itself after `hydrate_and_load`; redirects are recorded, not followed.
"""

from __future__ import annotations

import functools
import os
import queue
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "/_event"  # both the socket.io path and its namespace
STATE_SUFFIX = "_rx_state_"
# Without an end marker, an event is over when nothing arrived for this long.
QUIET_SECONDS = 0.5


@contextmanager
def start_backend():
    """Run the app's backend (pages registered, no frontend) on a free port; yield its URL."""
    from reflex.testing import AppHarness

    saved_cwd = os.getcwd()
    os.chdir(ROOT)
    harness = AppHarness.create(root=ROOT)
    try:
        harness._initialize_app()
        harness._start_backend()
        host, port = harness._poll_for_servers(timeout=60).getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        harness.stop()
        os.chdir(saved_cwd)


@contextmanager
def sqlite_backend(folder: Path):
    """`start_backend` on a migrated SQLite file in `folder`, with settings of its own.

    The environment is restored afterwards, so later tests see their own settings again.
    """
    import secrets

    from credits_app.migrations import upgrade_database
    from credits_app.settings import get_settings

    saved = dict(os.environ)
    os.environ.update(
        DATABASE_URL=f"sqlite:///{folder / 'credits.db'}",
        DATA_DIR=str(folder),
        ACCESS_TOKEN_SECRET=secrets.token_urlsafe(48),
    )
    get_settings.cache_clear()
    upgrade_database(get_settings().database_url)
    try:
        with start_backend() as url:
            yield url
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


@functools.cache
def _local_storage_keys() -> frozenset[str]:
    """Qualified names of the app's LocalStorage vars, as the frontend keys them."""
    from reflex.compiler.utils import compile_client_storage
    from reflex.state import State

    return frozenset(compile_client_storage(State)["local_storage"])


@dataclass
class ReflexSocket:
    """One browser tab: a client token, the state it was sent, and where it was redirected.

    Attributes:
        url: The backend's base URL.
        path: The page this tab is on (sent as router data with each event).
        headers: Extra handshake headers (e.g. a User-Agent).
        local_storage: The browser's LocalStorage, by qualified var name; sent with each
            page load like the frontend does (share one dict between tabs of one browser).
    """

    url: str
    path: str = "/"
    headers: dict[str, str] = field(default_factory=dict)
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    state: dict[str, dict[str, Any]] = field(default_factory=dict)
    redirects: list[str] = field(default_factory=list)
    local_storage: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        import socketio

        self._updates: queue.Queue = queue.Queue()
        self._client = socketio.Client(reconnection=False)
        self._client.on("event", self._updates.put, namespace=NAMESPACE)
        self._client.connect(
            f"{self.url}?token={self.token}",
            socketio_path=NAMESPACE,
            namespaces=[NAMESPACE],
            transports=["websocket"],
            headers=self.headers,
            wait_timeout=10,
        )

    def close(self) -> None:
        """Disconnect the socket."""
        self._client.disconnect()

    def var(self, state_cls: type, name: str) -> Any:
        """The last value of `state_cls.name` this tab was sent."""
        return self.state.get(state_cls.get_full_name(), {}).get(name)

    def send(
        self,
        handler: Any,
        *,
        until: tuple[str, Any] | None = None,
        timeout: float = 30,
        **payload: Any,
    ) -> None:
        """Send one event (`SomeState.handler`) with this payload and apply what comes back.

        Args:
            handler: An event handler of a state class, e.g. `AuthState.login`.
            until: `(var, value)` of the handler's state that marks the end of the handler
                (e.g. `("busy", False)`); without it, wait until the backend is quiet.
            timeout: Seconds to wait for the end.
            **payload: The handler's arguments, sent as JSON without any validation.
        """
        state_name = handler.state.get_full_name()
        name = f"{state_name}.{handler.fn.__name__}"
        marker = (state_name, *until) if until else None
        self._emit(name, payload, marker, timeout)

    def open(self, path: str, timeout: float = 30) -> None:
        """Load a page: hydrate it and run its on_load events, as a browser navigation does."""
        from reflex.state import State

        self.path = path
        payload = {"vars": dict(self.local_storage)} if self.local_storage else {}
        # The page's on_load chain ends by setting is_hydrated (the snapshot carries False).
        hydrated = (State.get_full_name(), "is_hydrated", True)
        self._emit(f"{State.get_full_name()}.hydrate_and_load", payload, hydrated, timeout)

    def _emit(self, name: str, payload: dict, marker: tuple | None, timeout: float) -> None:
        data = {"name": name, "payload": payload, "router_data": self._router_data()}
        self._client.emit("event", data, namespace=NAMESPACE)
        deadline = time.monotonic() + timeout
        received = False
        while True:
            wait = QUIET_SECONDS if received and marker is None else deadline - time.monotonic()
            try:
                update = self._updates.get(timeout=max(0.01, wait))
            except queue.Empty:
                if marker is None and received:
                    return
                raise TimeoutError(f"no end of {name} within {timeout} s") from None
            received = True
            if self._apply(update, marker):
                return

    def _router_data(self) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        data: dict[str, Any] = {"pathname": path, "asPath": self.path}
        if query:
            data["query"] = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        return data

    def _apply(self, update: dict, marker: tuple | None) -> bool:
        """Merge one update into `state`; tell whether it carries the marker."""
        seen = False
        for state_name, values in (update.get("delta") or {}).items():
            current = self.state.setdefault(state_name, {})
            for key, value in values.items():
                name = key.removesuffix(STATE_SUFFIX)
                current[name] = value
                if f"{state_name}.{key}" in _local_storage_keys():
                    self.local_storage[f"{state_name}.{key}"] = value
                seen = seen or (marker is not None and (state_name, name, value) == marker)
        for event in update.get("events") or []:
            if event.get("name") == "_redirect":
                self.redirects.append(event["payload"]["path"])
        return seen
