"""ASGI middleware: give each API request an id, and count its answer for the metrics."""

from __future__ import annotations

import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from credits_app.observability import metrics
from credits_app.observability.logs import REQUEST_ID_HEADER, request_id, request_id_from

UNMATCHED = "unmatched"
# Other method names (anyone can send any) are counted as OTHER, keeping the label set fixed.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER = "other"


def route_of(scope: Scope) -> str:
    """The route template that served the request (`/api/credits/holds/{hold_id}/capture`).

    Paths no route knew count as `unmatched`, so metrics stay a short, fixed list.
    """
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not path or getattr(route, "name", None) == "api_fallback":
        return UNMATCHED
    return path


class RequestObservation:
    """Set the request id (from `X-Request-ID` or new), echo it, and count API answers.

    Every HTTP request gets an id in the `request_id` context variable, so log records
    written while it runs carry it, and the response names it in `X-Request-ID`. Requests
    under `api_prefix` are counted by method, route and status, and timed by route.
    """

    def __init__(self, app: ASGIApp, *, api_prefix: str) -> None:
        """Wrap `app`; count requests whose path starts with `api_prefix`."""
        self.app = app
        self.api_prefix = api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with its id set, then record what it answered."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw = headers.get(REQUEST_ID_HEADER.lower().encode())
        rid = request_id_from(raw.decode("latin-1") if raw else None)
        token = request_id.set(rid)
        status = 500  # what the client gets when the app raises before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
            if scope.get("path", "").startswith(self.api_prefix):
                self._count(scope, status, time.perf_counter() - started)

    @staticmethod
    def _count(scope: Scope, status: int, seconds: float) -> None:
        route = route_of(scope)
        method = scope.get("method", "")
        method = method if method in METHODS else OTHER
        metrics.HTTP_RESPONSES.labels(method, route, str(status)).inc()
        metrics.HTTP_SECONDS.labels(route).observe(seconds)
        if status == 402:
            metrics.INSUFFICIENT.labels(route).inc()
