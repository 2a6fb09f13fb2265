"""The JSON pipeline for `/_sim/*` test helpers: body decoding, locking, Stripe-shaped errors.

The token is checked before any of this (`guard.RequestGuard`). Bodies are JSON only: a
form post or a no-cors `fetch` from another site cannot send `application/json`, and query
strings are read only by `GET` helpers, which change nothing.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .errors import StripeError, invalid
from .simulator import Simulator

logger = logging.getLogger(__name__)

Obj = dict[str, Any]
SimHandler = Callable[[Simulator, Obj, dict[str, str]], Any]


def sim_route(path: str, handler: SimHandler, method: str = "POST", locked: bool = True) -> Route:
    """Expose `handler(sim, json_body, path_params) -> JSON value` as a helper route.

    Args:
        path: Starlette path under `/_sim`.
        handler: Runs in a worker thread; with `locked`, while holding the store lock.
        method: HTTP method.
        locked: False for handlers that block (waiting for deliveries) or need no state.
    """

    async def endpoint(request: Request) -> JSONResponse:
        raw = await request.body()
        return await run_in_threadpool(_respond, request, handler, raw, locked)

    return Route(path, endpoint, methods=[method])


def _respond(request: Request, handler: SimHandler, raw: bytes, locked: bool) -> JSONResponse:
    sim: Simulator = request.app.state.sim
    try:
        # Filters such as `GET /_sim/deliveries?event=evt_...` come in the query string.
        body = dict(request.query_params) if request.method == "GET" else _decode(request, raw)
        if not locked:
            return JSONResponse(handler(sim, body, dict(request.path_params)))
        with sim.lock:
            result = copy.deepcopy(handler(sim, body, dict(request.path_params)))
        return JSONResponse(result)
    except StripeError as exc:
        return JSONResponse(exc.to_dict(), exc.status)
    except Exception as exc:  # a simulator bug must still answer in Stripe's shape
        logger.exception("stripe simulator helper failed on %s", request.url.path)
        error = StripeError(500, f"Simulator error: {exc}", type="api_error")
        return JSONResponse(error.to_dict(), error.status)


def _decode(request: Request, raw: bytes) -> Obj:
    """The JSON object a helper was sent; 415 for another content type, 400 for a query."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise StripeError(
            415, "Simulator helpers take a JSON body: send Content-Type: application/json."
        )
    if request.url.query:
        raise invalid("Simulator helpers take their settings as a JSON body, not a query string.")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise invalid("The request body must be JSON.") from None
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    return body
