"""Start the real backend (`python -m credits_app run-prod`) as a subprocess on a free port.

Everything runs as real subprocesses on free ports; each object stops what it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from credits_app.runtime.ports import free_port
from credits_app.runtime.supervisor import answers
from credits_app.settings import DEFAULT_ARGON2_MEMORY_KIB, DEFAULT_ARGON2_TIME_COST, PROJECT_ROOT

# Strong values so production mode accepts them; tests mint tokens with the same secret.
ACCESS_TOKEN_SECRET = "runtime-tests-access-token-secret-0123456789abcdef"
ADMIN_API_KEY = "runtime-tests-admin-key-0123456789"
WEBHOOK_SECRET = "whsec_runtimetests0123456789abcdef0123456789abcd"

__all__ = [
    "ACCESS_TOKEN_SECRET",
    "ADMIN_API_KEY",
    "WEBHOOK_SECRET",
    "Backend",
    "free_port",
    "socket_listening",
    "start_backend",
]


def app_env(database_url: str, tmp: Path, **extra: str) -> dict[str, str]:
    """An environment in which the app runs in production mode against `database_url`."""
    env = {
        **os.environ,
        "CREDITS_ENV": "prod",
        "CREDITS_ENV_FILE": os.devnull,
        "DATA_DIR": str(tmp / "data"),
        "DATABASE_URL": database_url,
        "ACCESS_TOKEN_SECRET": ACCESS_TOKEN_SECRET,
        "ADMIN_API_KEY": ADMIN_API_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "REFLEX_WEB_WORKDIR": os.environ.get("REFLEX_WEB_WORKDIR", str(tmp / "web")),
        "REFLEX_STATES_WORKDIR": str(tmp / "states"),
        "REFLEX_TELEMETRY_ENABLED": "false",
        "GRANIAN_LOG_LEVEL": "warning",
        # Production refuses simulated payments and a cheap Argon2 (the suite's own) unless
        # told otherwise; these backends talk to the simulator and hash at full cost.
        "ALLOW_SIMULATED_PAYMENTS": "1",
        "ARGON2_TIME_COST": str(DEFAULT_ARGON2_TIME_COST),
        "ARGON2_MEMORY_KIB": str(DEFAULT_ARGON2_MEMORY_KIB),
    }
    for name in ("REDIS_URL", "REFLEX_REDIS_URL", "WORKERS", "PORT", "STRIPE_SECRET_KEY"):
        env.pop(name, None)
    env.update(extra)
    return env


@dataclass
class Backend:
    """A `python -m credits_app run-prod --backend-only` process group.

    Attributes:
        url: Base address, e.g. http://127.0.0.1:PORT.
        process: The CLI process (leader of its own process group).
        log: File receiving its output.
    """

    url: str
    process: subprocess.Popen
    log: Path
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def webhook_url(self) -> str:
        """The Stripe webhook endpoint."""
        return self.url + "/api/webhooks/stripe"

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Wait until /ping answers; raise with the log tail if the process dies first."""
        deadline = time.monotonic() + timeout
        while not answers(self.url + "/ping", timeout=1.0):
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"backend did not start at {self.url}:\n{tail}")
            time.sleep(0.2)

    def worker_pids(self) -> list[int]:
        """Process ids of the backend workers (children of the Reflex server process)."""
        import psutil

        workers: list[int] = []
        for server in psutil.Process(self.process.pid).children():
            workers.extend(child.pid for child in server.children())
        return workers

    def workers_connected_to(self, port: int) -> int:
        """How many workers hold a TCP connection to `port` (e.g. PostgreSQL's)."""
        import psutil

        count = 0
        for pid in self.worker_pids():
            connections = psutil.Process(pid).net_connections(kind="tcp")
            count += any(c.raddr and c.raddr.port == port for c in connections)
        return count

    def kill9(self) -> None:
        """SIGKILL the CLI, Reflex and every worker at once (Reflex runs in its own group)."""
        import psutil

        tree = [psutil.Process(self.process.pid)]
        tree += tree[0].children(recursive=True)
        for proc in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.send_signal(signal.SIGKILL)
        psutil.wait_procs(tree, timeout=10)
        self.process.wait(10)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM to the CLI, which stops Reflex), then kill any survivor."""
        import psutil

        try:
            tree = [psutil.Process(self.process.pid)]
            tree += tree[0].children(recursive=True)
        except psutil.NoSuchProcess:
            tree = []
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(20)
        for proc in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def restart(self, timeout: float = 90.0) -> Backend:
        """Start the same command again on the same port and wait until it serves."""
        again = _spawn(self.command, self.env, self.url, self.log)
        again.wait_ready(timeout)
        return again

    def client(self, **kwargs) -> httpx.Client:
        """An HTTP client for this backend."""
        kwargs.setdefault("timeout", 30.0)
        return httpx.Client(base_url=self.url, **kwargs)


def _spawn(command: list[str], env: dict[str, str], url: str, log: Path) -> Backend:
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Backend(url, process, log, command, env)


def start_backend(
    database_url: str,
    tmp: Path,
    *,
    workers: int = 1,
    redis_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    timeout: float = 90.0,
    backend_only: bool = True,
) -> Backend:
    """Start the production backend on a free port and wait until it serves.

    Args:
        database_url: The database it uses (migrations are applied on start).
        tmp: A private folder for its data, state and log.
        workers: Backend worker processes (more than 1 needs `redis_url`).
        redis_url: Redis for Reflex state (REDIS_URL).
        extra_env: More variables, e.g. STRIPE_API_BASE.
        timeout: Seconds to wait for /ping.
        backend_only: False also builds and serves the pages (production build; slower).

    Returns:
        The running backend; call `stop()` (or `kill9()`) when done.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = app_env(database_url, tmp, **{"SITE_URL": url, **(extra_env or {})})
    if redis_url:
        env["REDIS_URL"] = redis_url
    command = [
        sys.executable,
        "-m",
        "credits_app",
        "run-prod",
        *(["--backend-only"] if backend_only else []),
        *("--host", "127.0.0.1"),
        *("--port", str(port)),
        *("--workers", str(workers)),
    ]
    backend = _spawn(command, env, url, tmp / "backend.log")
    try:
        backend.wait_ready(timeout)
    except BaseException:
        backend.stop()
        raise
    return backend


@contextlib.contextmanager
def socket_listening():
    """Yield a port on which something listens (to test "port in use" handling)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]
