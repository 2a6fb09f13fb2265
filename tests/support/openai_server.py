"""A real local HTTP server speaking OpenAI chat completions, with scripted misbehaviour.

The request's `model` picks the behaviour: `ok` streams an answer as server-sent events,
`json` answers without streaming, `fail500` always fails, `flaky` fails once then works,
`slow` answers after a long pause, `stall` sends one chunk then hangs, `pause` streams
`PAUSE_AFTER` words then pauses for `pause` seconds before the rest, `long` streams far more
words than asked for, `garbage` breaks the event stream after one chunk.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = "Credits are reserved first, then the real cost is captured and the rest released."
PAUSE_AFTER = 3


@dataclass
class FakeOpenAI:
    """A running server: its base URL (ending in /v1) and the requests it received."""

    server: ThreadingHTTPServer
    requests: list[dict] = field(default_factory=list)
    pause: float = 3.0

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _sse(
    handler: BaseHTTPRequestHandler, pieces: list[str], stall: float = 0.0, stall_after: int = 1
) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.end_headers()
    for n, piece in enumerate(pieces, start=1):
        chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
        handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        handler.wfile.flush()
        if stall and n == stall_after:
            time.sleep(stall)
    handler.wfile.write(b"data: [DONE]\n\n")


def answer_pieces() -> list[str]:
    """The pieces `ok` and `pause` stream: one word of ANSWER (and its space) each."""
    return [w + " " for w in ANSWER.split()]


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            fake.requests.append({"path": self.path, "headers": dict(self.headers), **body})
            model = body.get("model")
            seen = sum(1 for r in fake.requests if r.get("model") == model)
            if self.path != "/v1/chat/completions":
                self.send_error(404)
            elif model == "fail500" or (model == "flaky" and seen == 1):
                self.send_response(500)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"error": {"message": "model crashed"}}')
            elif model == "slow":
                time.sleep(fake.pause)
                _sse(self, [ANSWER])
            elif model == "stall":
                _sse(self, ["Partial ", "answer"], stall=fake.pause)
            elif model == "pause":
                _sse(self, answer_pieces(), stall=fake.pause, stall_after=PAUSE_AFTER)
            elif model == "long":
                _sse(self, ["word " * 50] * 20)
            elif model == "garbage":
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.wfile.write(b'data: {"choices": [{"delta": {"content": "ok "}}]}\n\n')
                self.wfile.write(b"data: {not json\n\n")
            elif model == "json":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                message = {"role": "assistant", "content": ANSWER}
                self.wfile.write(json.dumps({"choices": [{"message": message}]}).encode())
            else:
                _sse(self, answer_pieces())

    return Handler


def start_fake_openai() -> FakeOpenAI:
    """Start the server on a free port in a daemon thread."""
    fake = FakeOpenAI(server=None)  # type: ignore[arg-type]
    fake.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(fake))
    fake.server.daemon_threads = True
    threading.Thread(target=fake.server.serve_forever, daemon=True).start()
    return fake
