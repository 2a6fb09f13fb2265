"""Security headers on every answer: no framing, no sniffing, a short referrer, HSTS in prod.

One middleware on the API app covers everything the backend serves, because Reflex mounts
its own app (pages in production, /ping, /_upload) inside ours. In dev the pages come from
the Vite dev server instead; credits_app/runtime/dev_server.py gives it the same headers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Sent everywhere. X-Frame-Options is for browsers that predate CSP's frame-ancestors.
COMMON_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
# Production only: browsers ignore it over plain http, and dev runs on http://localhost.
HSTS = "max-age=31536000; includeSubDomains"
# JSON is never rendered as a document, so an API answer may load nothing at all.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI (/api/docs, off in production unless API_DOCS=1) loads from jsDelivr.
DOCS_SOURCES = ("https://cdn.jsdelivr.net",)
DOCS_IMAGES = ("https://fastapi.tiangolo.com",)


def page_policy(connect: Iterable[str] = ()) -> str:
    """The Content-Security-Policy of the app's pages.

    React Router writes inline scripts (theme, hydration data) and emotion injects <style>
    elements, so scripts and styles allow 'unsafe-inline'. Reflex runs the scripts its
    backend sends (every toast, including its own "An error occurred." notice) through
    eval, so scripts also allow 'unsafe-eval': without it those messages silently vanish.
    Everything else is this origin only, plus `connect` for the backend's websocket when it
    is on another origin (dev).

    Args:
        connect: More origins the page may connect to (http and ws forms).
    """
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-inline'", "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *connect],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(dict.fromkeys(v))}" for name, v in directives.items())


def docs_policy() -> str:
    """The page policy widened for Swagger UI's scripts, styles and logo."""
    return (
        page_policy()
        .replace("script-src 'self'", f"script-src 'self' {' '.join(DOCS_SOURCES)}")
        .replace("style-src 'self'", f"style-src 'self' {' '.join(DOCS_SOURCES)}")
        .replace("img-src 'self'", f"img-src 'self' {' '.join(DOCS_IMAGES)}")
    )


def origins_of(*urls: str) -> list[str]:
    """The http(s) and ws(s) origins of `urls` (what a page's connect-src must name)."""
    found: list[str] = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            continue
        socket_scheme = "wss" if parts.scheme == "https" else "ws"
        found += [f"{parts.scheme}://{parts.netloc}", f"{socket_scheme}://{parts.netloc}"]
    return list(dict.fromkeys(found))


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP answer that lacks them.

    Paths under `api_prefix` get the strict API policy; `docs_path` gets the docs policy;
    everything else (pages, /ping, uploads) the page policy.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        production: bool,
        connect: Iterable[str] = (),
        api_prefix: str = "/api",
        docs_path: str = "/api/docs",
    ) -> None:
        self.app = app
        self.api_prefix = api_prefix
        self.docs_path = docs_path
        base = {**COMMON_HEADERS, **({"Strict-Transport-Security": HSTS} if production else {})}
        self._api = {**base, "Content-Security-Policy": API_POLICY}
        self._docs = {**base, "Content-Security-Policy": docs_policy()}
        self._page = {**base, "Content-Security-Policy": page_policy(connect)}

    def headers_for(self, path: str) -> Mapping[str, str]:
        """The headers an answer at `path` gets."""
        if path == self.docs_path:
            return self._docs
        if path == self.api_prefix or path.startswith(self.api_prefix + "/"):
            return self._api
        return self._page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to the response start, keeping any the route set itself."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers_for(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
