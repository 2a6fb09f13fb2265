"""The log of `/v1` requests, so tests can check exactly what an integration sent."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from .store import Store

MAX_REQUESTS = 10_000


def log_request(
    store: Store, request: Request, params: dict[str, Any], status: int, request_id: str
) -> None:
    """Remember one API request (the oldest are forgotten beyond `MAX_REQUESTS`)."""
    store.requests.append(
        {
            "id": request_id,
            "method": request.method,
            "path": request.url.path,
            "params": params,
            "stripe_version": request.headers.get("stripe-version"),
            "idempotency_key": request.headers.get("idempotency-key"),
            "status": status,
            "time": store.now(),
        }
    )
    del store.requests[:-MAX_REQUESTS]


def logged_requests(store: Store, path_prefix: str = "") -> list[dict[str, Any]]:
    """Requests whose path starts with `path_prefix`, oldest first."""
    return [r for r in store.requests if r["path"].startswith(path_prefix)]
