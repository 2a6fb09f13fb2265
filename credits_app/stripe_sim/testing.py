"""Run the simulator inside the current process, on a free port, for tests."""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, replace

import uvicorn
from starlette.applications import Starlette

from .app import create_app
from .config import SimConfig, is_live_key
from .control import forget_token, remember_token
from .simulator import Simulator


@dataclass
class RunningSimulator:
    """A simulator served by uvicorn in a background thread.

    Attributes:
        url: Base address for the SDK (`base_addresses={"api": url}`) and for browsers.
        app: The ASGI app.
        server: The uvicorn server.
        thread: The thread running it.
    """

    url: str
    app: Starlette
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def sim(self) -> Simulator:
        """The simulator state, for assertions that the HTTP helpers don't cover."""
        return self.app.state.sim

    @property
    def config(self) -> SimConfig:
        """The live configuration."""
        return self.sim.config

    @property
    def token(self) -> str:
        """The control token its `/_sim/*` helpers require (`SimControl(url)` sends it)."""
        return self.config.control_token

    def stop(self, timeout: float = 5.0) -> None:
        """Shut the server down and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout)
        forget_token(self.url)


def start_in_thread(
    config: SimConfig | None = None, *, host: str = "127.0.0.1", port: int = 0, timeout: float = 10
) -> RunningSimulator:
    """Start a simulator on `host:port` (a free port by default) and wait until it serves.

    Args:
        config: Settings; `api_base` is replaced by the address actually bound. Its control
            token (random unless given) is remembered, so `SimControl(running.url)` sends it.
        host: Interface to bind.
        port: Port to bind; 0 picks a free one.
        timeout: Seconds to wait for startup.

    Returns:
        The running simulator; call `stop()` when done.

    Raises:
        LiveKeyRefused: When `config` or the `STRIPE_SECRET_KEY` environment variable
            carries a live secret key.
        RuntimeError: When the server does not start in time.
    """
    config = config or SimConfig()
    if not config.secret_key and is_live_key(os.environ.get("STRIPE_SECRET_KEY")):
        # A live key in the environment means this process talks to real Stripe.
        config = replace(config, secret_key=os.environ["STRIPE_SECRET_KEY"])
    config.check_not_live()
    # An explicit IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections;
    # without it every response waits ~40 ms for a delayed ACK.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    url = f"http://{host}:{listener.getsockname()[1]}"
    try:
        app = create_app(replace(config, api_base=url))
    except Exception:
        listener.close()
        raise
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="stripe-sim", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the Stripe simulator did not start on {url}")
        time.sleep(0.01)
    remember_token(url, app.state.sim.config.control_token)
    return RunningSimulator(url, app, server, thread)
