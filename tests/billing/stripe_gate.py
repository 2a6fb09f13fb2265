"""A proxy in front of the simulator that holds every request until the test lets it go.

While a request is held, the app is waiting for Stripe: that is when a test can check that
the app keeps no database transaction (and, on SQLite, no write lock) open.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


class StripeGate:
    """Forwards to `target`, one request at a time, each only after `release()`."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.arrived: queue.Queue[str] = queue.Queue()
        self._go = threading.Semaphore(0)
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                gate.arrived.put(f"{self.command} {self.path}")
                gate._go.acquire()
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = httpx.request(
                    self.command, gate.target + self.path, content=body, headers=headers
                )
                self.send_response(answer.status_code)
                for name in ("content-type", "request-id", "stripe-version"):
                    if name in answer.headers:
                        self.send_header(name, answer.headers[name])
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_DELETE = _forward

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def release(self) -> None:
        """Let the oldest held request through."""
        self._go.release()

    def close(self) -> None:
        """Stop serving."""
        for _ in range(100):
            self._go.release()
        self._server.shutdown()


def open_transactions(db_url: str) -> list[str]:
    """What stands in the way of a writer now: SQLite's write lock, PostgreSQL's open
    transactions of other connections. Empty when nothing is held."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(url.database, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return []
        except sqlite3.OperationalError as exc:
            return [f"sqlite: {exc}"]
        finally:
            conn.close()
    # A transaction that touched a table keeps a lock on it until it ends.
    schema = url.query["options"].split("search_path=", 1)[1]
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.relname, l.mode FROM pg_locks l "
                    "JOIN pg_class c ON c.oid = l.relation "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = :schema AND l.pid <> pg_backend_pid()"
                ),
                {"schema": schema},
            ).all()
        return [f"postgres: {row.mode} on {row.relname}" for row in rows]
    finally:
        engine.dispose()
