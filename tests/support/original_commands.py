"""The original system's documented commands, word for word, and a way to replay them.

The lines below are copied from the original's README (sync prices, grant credits, forward
webhooks). Tests replay them over HTTP against our app, changing only what a reader of that
README changes too: the port (when the test app is not on 3000) and, in the grant example,
the placeholder `"user-id"` for a real user's id.
"""

from __future__ import annotations

import json
import shlex
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx
import stripe

ADMIN_KEY = "your-secret-admin-key"
SYNC_PRICES = """curl -X POST http://localhost:3000/api/billing/sync-prices \\
  -H "x-admin-key: your-secret-admin-key\""""
GRANT = """curl -X POST http://localhost:3000/api/credits/grant \\
  -H "x-admin-key: your-secret-admin-key" \\
  -H "Content-Type: application/json" \\
  -d '{
    "userId": "user-id",
    "amount": 100,
    "reason": "promotional",
    "idempotencyKey": "unique-grant-id"
  }'"""
STRIPE_LISTEN = "stripe listen --forward-to localhost:3000/api/webhooks/stripe"
ORIGINAL_PORT = 3000


@dataclass
class CurlRequest:
    """What a curl command line sends: method, URL, headers and body."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


def _on_port(url: str, port: int | None) -> str:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if port is None:
        return urlunsplit(parts)
    return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{port}"))


def parse_curl(line: str, *, port: int | None = None) -> CurlRequest:
    """Read the method, URL, `-H` headers and `-d` body of a curl line (as curl would).

    Args:
        line: The command, with shell quoting and backslash line continuations.
        port: Send to this port instead of the one written (None keeps it).
    """
    words = shlex.split(line.replace("\\\n", " "))
    assert words[0] == "curl", line
    method, url, headers, body = None, "", {}, None
    args = iter(words[1:])
    for word in args:
        if word in ("-X", "--request"):
            method = next(args)
        elif word in ("-H", "--header"):
            name, _, value = next(args).partition(":")
            headers[name.strip()] = value.strip()
        elif word in ("-d", "--data"):
            body = next(args).encode()
        else:
            url = word
    if body is not None and not any(h.lower() == "content-type" for h in headers):
        headers["Content-Type"] = "application/x-www-form-urlencoded"  # what curl -d sends
    method = method or ("POST" if body is not None else "GET")
    return CurlRequest(method, _on_port(url, port), headers, body)


def with_user_id(request: CurlRequest, user_id: str) -> CurlRequest:
    """The grant example with its `"user-id"` placeholder replaced by a real id (a string)."""
    assert request.body and b'"user-id"' in request.body
    body = request.body.replace(b'"user-id"', json.dumps(user_id).encode())
    return CurlRequest(request.method, request.url, dict(request.headers), body)


def send(request: CurlRequest, client: httpx.Client | None = None) -> httpx.Response:
    """Send a parsed curl request (with `client`, e.g. a TestClient, or a fresh one)."""
    if client is None:
        with httpx.Client(timeout=30) as fresh:
            return send(request, fresh)
    return client.request(
        request.method, request.url, headers=request.headers, content=request.body
    )


def forward_url(line: str = STRIPE_LISTEN, *, port: int | None = None) -> str:
    """Where `stripe listen --forward-to TARGET` posts events (http:// when none is given)."""
    words = shlex.split(line)
    return _on_port(words[words.index("--forward-to") + 1], port)


def stripe_cli_delivery(event: dict, secret: str) -> tuple[bytes, dict[str, str]]:
    """Body and headers of an event as `stripe listen` forwards it, signed with `secret`."""
    payload = json.dumps(event).encode()
    signature = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=int(time.time())
    )
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": signature,
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }
    return payload, headers


def triggered_event() -> dict:
    """What `stripe trigger customer.created` sends: an event of a type the app does not use."""
    now = int(time.time())
    return {
        "id": f"evt_trigger_{now}_{time.monotonic_ns()}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": now,
        "livemode": False,
        "type": "customer.created",
        "data": {"object": {"id": f"cus_trigger_{now}", "object": "customer", "metadata": {}}},
    }
