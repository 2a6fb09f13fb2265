"""The `/v1` request pipeline: API-key check, parameter decoding, idempotency, expansion."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .config import is_live_key
from .errors import StripeError, authentication, idempotency_mismatch
from .events import api_request
from .expand import render
from .formdata import decode_form
from .ids import new_id
from .legacy_shapes import render as render_version
from .params import Params, check_scalars, expand_paths
from .request_log import log_request
from .simulator import Simulator
from .versions import check_request_version

logger = logging.getLogger(__name__)

Handler = Callable[[Simulator, Params, dict[str, str]], dict[str, Any]]


def api_route(path: str, handler: Handler, method: str = "GET") -> Route:
    """Expose a handler `(sim, params, path_params) -> object` as a Stripe API route.

    Args:
        path: Starlette path, e.g. `/v1/prices/{id}`.
        handler: Runs in a worker thread with the store lock held; returns a stored object
            or list envelope, which is deep-copied and expanded for the response.
        method: The HTTP method.
    """

    async def endpoint(request: Request) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        return await run_in_threadpool(_respond, request, handler, body)

    return Route(path, endpoint, methods=[method])


def api_key(authorization: str | None) -> str:
    """Extract and check the API key from an `Authorization` header (Bearer or Basic)."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    key = value.strip()
    if scheme.lower() == "basic":
        try:
            key = base64.b64decode(key).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            key = ""
    if not key:
        raise authentication(
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY')."
        )
    if is_live_key(key):
        raise authentication(
            "This Stripe simulator refuses live-mode API keys. Use a test key (sk_test_...)."
        )
    if not key.startswith(("sk_test_", "rk_test_")):
        raise authentication(f"Invalid API Key provided: {key[:8]}{'*' * 8}")
    return key


def _respond(request: Request, handler: Handler, body: str) -> Response:
    sim: Simulator = request.app.state.sim
    request_id = new_id("req_", 14)
    params = decode_form(request.url.query)
    params.update(decode_form(body))
    # Without a Stripe-Version header Stripe answers in the account's default version.
    version = request.headers.get("stripe-version") or sim.config.api_version
    headers = {"Request-Id": request_id, "Stripe-Version": version}
    with sim.lock:
        status, content = _answer(sim, request, handler, body, params, headers)
        log_request(sim.store, request, params, status, request_id)
    return _json(content, status, headers)


def _answer(
    sim: Simulator,
    request: Request,
    handler: Handler,
    body: str,
    params: Params,
    headers: dict[str, str],
) -> tuple[int, bytes]:
    """Authenticate, replay an idempotent answer or run the handler; `(status, body)`."""
    try:
        api_key(request.headers.get("authorization"))
        check_request_version(headers["Stripe-Version"])
    except StripeError as exc:
        return exc.status, _encode(exc.to_dict())
    key = request.headers.get("idempotency-key") if request.method == "POST" else None
    fingerprint = f"{request.method} {request.url.path}\n{body}"
    cached = sim.store.idempotency.get(key) if key else None
    if cached is not None:
        if cached[0] != fingerprint:
            error = idempotency_mismatch(key or "")
            return error.status, _encode(error.to_dict())
        headers.update({"Idempotency-Key": key or "", "Idempotent-Replayed": "true"})
        return cached[1], cached[2]
    status, content = _execute(sim, request, handler, params, headers, key)
    if key and status < 500:
        sim.store.remember(key, (fingerprint, status, content))
        headers["Idempotency-Key"] = key
    return status, content


def _execute(
    sim: Simulator,
    request: Request,
    handler: Handler,
    params: Params,
    headers: dict[str, str],
    key: str | None,
) -> tuple[int, bytes]:
    try:
        check_scalars(params)
        with api_request(headers["Request-Id"], key):
            result = handler(sim, params, dict(request.path_params))
        expanded = render(sim.store, result, expand_paths(params))
        payload = render_version(expanded, headers["Stripe-Version"], sim.store)
        status = 200
    except StripeError as exc:
        payload, status = exc.to_dict(), exc.status
    except Exception as exc:  # a simulator bug must still answer in Stripe's shape
        logger.exception("stripe simulator failed on %s %s", request.method, request.url.path)
        payload = StripeError(500, f"Simulator error: {exc}", type="api_error").to_dict()
        status = 500
    return status, _encode(payload)


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, indent=2).encode("utf-8")


def _json(content: bytes, status: int, headers: dict[str, str]) -> Response:
    return Response(content, status, headers, media_type="application/json")
