"""What keeps other web pages out: the Host allow-list, the helpers' token, same-origin forms.

A page the developer visits can send simple requests to 127.0.0.1 (form posts, no-cors
`fetch`) but cannot add a header without a CORS preflight, which the simulator never answers;
with DNS rebinding it can read answers, but only under its own host name.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .config import SimConfig
from .errors import StripeError

TOKEN_HEADER = "X-Sim-Token"  # noqa: S105 (a header's name, not a secret)
# Harmless and needed by whatever waits for the simulator to start.
OPEN_PATHS = frozenset({"/_sim/health"})


class RequestGuard:
    """ASGI middleware: refuse foreign Host names (421) and helpers without the token (401).

    Args:
        app: The wrapped application.
        config: The live configuration (read on every request, so changes apply at once).
    """

    def __init__(self, app: ASGIApp, config: SimConfig) -> None:
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a refused request here; pass any other one on."""
        if scope["type"] == "http":
            error = refusal(self.config, scope["path"], Headers(scope=scope))
            if error is not None:
                headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
                response = JSONResponse(error.to_dict(), error.status, headers)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def refusal(config: SimConfig, path: str, headers: Headers) -> StripeError | None:
    """The error a request gets before reaching any route, or None to let it through."""
    host = host_name(headers.get("host", ""))
    if not host_allowed(config, host):
        return StripeError(
            421,
            f"This Stripe simulator does not answer to the host name '{host}'. Use "
            f"{config.api_base}, or add the name to STRIPE_SIM_ALLOWED_HOSTS.",
        )
    if is_control_path(path) and not token_matches(config, headers):
        return StripeError(
            401,
            "This simulator helper needs the control token the simulator printed at start "
            f"(or STRIPE_SIM_CONTROL_TOKEN), sent as '{TOKEN_HEADER}: <token>' or "
            "'Authorization: Bearer <token>'.",
        )
    return None


def is_control_path(path: str) -> bool:
    """Tell whether `path` is a `/_sim/*` helper that needs the token."""
    return (path == "/_sim" or path.startswith("/_sim/")) and path not in OPEN_PATHS


def host_name(header: str) -> str:
    """The lower-case host name of a `Host` header (`[::1]:12111` gives `::1`), or ""."""
    try:
        return urlsplit(f"//{header}").hostname or ""
    except ValueError:
        return ""


def host_allowed(config: SimConfig, host: str) -> bool:
    """Tell whether requests addressed to `host` are answered."""
    trusted = config.trusted_hosts
    return "*" in trusted or (bool(host) and host in trusted)


def token_matches(config: SimConfig, headers: Headers) -> bool:
    """Compare the request's token with the configured one in constant time."""
    given = headers.get(TOKEN_HEADER, "")
    if not given:
        scheme, _, value = headers.get("authorization", "").partition(" ")
        given = value.strip() if scheme.lower() == "bearer" else ""
    # Digests of equal length, so not even the token's length shows in the timing.
    return hmac.compare_digest(_digest(given), _digest(config.control_token))


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def same_origin(request: Request) -> bool:
    """Tell whether a form post came from the simulator's own pages.

    Browsers send `Origin` with every POST: a form on another site (or a sandboxed frame,
    `null`) is refused. Clients that send no `Origin` (scripts, tests) are not browsers.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    own = request.headers.get("host", "").lower()
    return parts.scheme in ("http", "https") and parts.netloc.lower() == own
