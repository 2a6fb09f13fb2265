"""Throwaway PostgreSQL clusters and Redis servers that fault tests stop and start."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from credits_app.runtime.ports import free_port

PG_BIN = Path(os.environ.get("CREDITS_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _postgres_user() -> str | None:
    """PostgreSQL refuses to run as root: run its binaries as `postgres` then."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return "postgres"


@dataclass
class PostgresCluster:
    """A throwaway PostgreSQL server in a temporary folder, on a free port.

    Attributes:
        root: Folder holding the data directory and the server log.
        port: The port it listens on (kept across restarts).
    """

    root: Path
    port: int
    user: str | None

    @property
    def url(self) -> str:
        """SQLAlchemy URL of its `postgres` database (trust auth)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(PG_BIN / args[0]), *args[1:]],
            user=self.user,
            capture_output=True,
            text=True,
            timeout=60,
            check=check,
        )

    def start(self) -> None:
        """Start (or restart) the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._run(
            "pg_ctl", "-D", str(self.root / "data"), "-l", str(self.root / "server.log"),
            "-o", options, "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server; `immediate` drops every connection like a crash would."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", mode, "-w", "stop", check=False)

    def destroy(self) -> None:
        """Stop the server and delete its files."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres_cluster() -> PostgresCluster:
    """initdb a new cluster in a temporary folder and start it on a free port.

    Raises:
        FileNotFoundError: When the PostgreSQL server binaries are not installed.
    """
    if not (PG_BIN / "initdb").exists():
        raise FileNotFoundError(f"no PostgreSQL server binaries in {PG_BIN}")
    root = Path(tempfile.mkdtemp(prefix="credits-pg-"))
    user = _postgres_user()
    if user:
        shutil.chown(root, user)
    cluster = PostgresCluster(root, free_port(), user)
    cluster._run(
        "initdb", "-D", str(root / "data"), "-U", "postgres", "-A", "trust", "--no-sync",
        "-E", "UTF8",
    )  # fmt: skip
    cluster.start()
    return cluster


@dataclass
class RedisServer:
    """A throwaway `redis-server` without persistence on a free port, which tests may stop.

    Attributes:
        port: The port it listens on (kept across restarts).
    """

    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Its address for REDIS_URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on {self.port}") from None
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        """Stop the server (SIGKILL: an outage, not a shutdown)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def start_redis_server() -> RedisServer:
    """Start a private Redis on a free port.

    Raises:
        FileNotFoundError: When redis-server is not installed.
    """
    if not shutil.which("redis-server"):
        raise FileNotFoundError("redis-server is not installed")
    server = RedisServer(free_port())
    server.start()
    return server
