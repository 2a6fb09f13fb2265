"""Request size limit for /api: 413 `payload_too_large` by Content-Length or streamed bytes."""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from credits_app.api.errors import error_response
from credits_app.settings import get_settings


class PayloadTooLarge(HTTPException):
    """Raised while reading a streamed body that grows past the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than {limit} bytes")


class RequestSizeLimit:
    """ASGI middleware limiting request bodies under a path prefix to MAX_REQUEST_BYTES.

    Reflex's own routes (uploads, events) are mounted inside the same app, so only paths
    under `prefix` are limited.
    """

    def __init__(self, app: ASGIApp, prefix: str = "/api") -> None:
        self.app = app
        self.prefix = prefix

    def _applies(self, scope: Scope) -> bool:
        path = scope.get("path", "")
        return scope["type"] == "http" and (
            path == self.prefix or path.startswith(self.prefix + "/")
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an oversized body up front, or once the streamed bytes pass the limit."""
        if not self._applies(scope):
            await self.app(scope, receive, send)
            return
        limit = get_settings().max_request_bytes
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and not declared.isdigit():
            response = error_response(
                400, "invalid_request", "Content-Length is not a number", {"field": "body"}
            )
            await response(scope, receive, send)
            return
        if declared is not None and int(declared) > limit:
            response = error_response(
                413, "payload_too_large", f"request body is larger than {limit} bytes"
            )
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)
