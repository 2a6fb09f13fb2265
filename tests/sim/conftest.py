"""Fixtures: an in-process Stripe simulator (reset per test) and a local webhook receiver."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from credits_app.stripe_sim.config import SimConfig
from credits_app.stripe_sim.control import SimControl
from credits_app.stripe_sim.testing import RunningSimulator, start_in_thread

WEBHOOK_SECRET = "whsec_sim_tests"
CURRENT_VERSION = "2026-10-28.endive"
FAST_RETRIES = [0.05, 0.1, 0.2]


@dataclass
class Delivery:
    """One webhook request as the receiver saw it."""

    body: bytes
    signature: str
    content_type: str
    user_agent: str


@dataclass
class Receiver:
    """A real HTTP server recording webhook deliveries and answering scripted statuses."""

    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    statuses: deque[int] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def respond_with(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, then 200 again."""
        with self.lock:
            self.statuses.extend(statuses)

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.popleft() if self.statuses else 200

    def clear(self) -> None:
        with self.lock:
            self.deliveries.clear()
            self.statuses.clear()

    def events(self) -> list[stripe.Event]:
        """Every delivered event, verified with the real SDK (raises on a bad signature)."""
        with self.lock:
            received = list(self.deliveries)
        return [
            stripe.Webhook.construct_event(d.body, d.signature, WEBHOOK_SECRET) for d in received
        ]

    def types(self) -> list[str]:
        """The types of delivered events, in arrival order."""
        return [event.type for event in self.events()]


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                receiver.deliveries.append(
                    Delivery(
                        body,
                        self.headers.get("Stripe-Signature", ""),
                        self.headers.get("Content-Type", ""),
                        self.headers.get("User-Agent", ""),
                    )
                )
            self.send_response(receiver.next_status())
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            del format, args

    return Handler


@pytest.fixture(scope="session")
def _receiver_server() -> Iterator[Receiver]:
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()


@pytest.fixture(scope="session")
def _sim_server() -> Iterator[RunningSimulator]:
    running = start_in_thread(SimConfig(webhook_secret=WEBHOOK_SECRET))
    yield running
    running.stop()


@pytest.fixture
def receiver(_receiver_server: Receiver) -> Receiver:
    """The webhook receiver, emptied for this test."""
    _receiver_server.clear()
    return _receiver_server


@pytest.fixture
def stripe_sim(_sim_server: RunningSimulator, receiver: Receiver) -> RunningSimulator:
    """A freshly reset simulator delivering to `receiver` with fast retries."""
    control = SimControl(_sim_server.url)
    control.reset()
    # A delivery from the previous test may still be in flight; let it land before clearing.
    control.wait_for_deliveries()
    receiver.clear()
    # Delayed payments settle only when a test says so (`settle` or the clock); settings
    # survive a reset, so the ones a test may change are set back here.
    control.configure(
        forward_to=receiver.url,
        webhook_secret=WEBHOOK_SECRET,
        retry_delays=FAST_RETRIES,
        delivery_workers=1,
        async_settle_seconds=0,
        api_version=CURRENT_VERSION,
        portal_proration_behavior="create_prorations",
    )
    control.close()
    return _sim_server


@pytest.fixture
def sim(stripe_sim: RunningSimulator) -> Iterator[SimControl]:
    """The `/_sim/*` helper client."""
    control = SimControl(stripe_sim.url)
    yield control
    control.close()


@pytest.fixture
def client(stripe_sim: RunningSimulator) -> stripe.StripeClient:
    """The official SDK pointed at the simulator."""
    return stripe.StripeClient(
        "sk_test_simulator", base_addresses={"api": stripe_sim.url}, max_network_retries=0
    )
