"""The app's API served by a real uvicorn in a thread, for tests that need a real socket.

The TestClient buffers a whole response, so a client that hangs up mid-stream, or the Stripe
simulator delivering webhooks, needs a real server.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn


@dataclass
class ApiServer:
    """A running server: its base URL and what stops it."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(10)


def serve_api() -> ApiServer:
    """Serve `create_api()` on a free local port; it reads the settings on each request."""
    from credits_app.api import create_api

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(create_api(), log_level="warning", lifespan="off"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="credits-api", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the API did not start on {url}")
        time.sleep(0.01)
    return ApiServer(url, server, thread)
