"""`/v1/events`, and the catch-all answering unknown `/v1` paths in Stripe's shape."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .errors import unrecognized_url
from .formdata import decode_form
from .handlers import retrieve
from .ids import new_id
from .listing import paginate
from .params import Params, as_dict, as_int
from .request_log import log_request
from .simulator import Simulator
from .web import api_route

Obj = dict[str, Any]
_COMPARISONS = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def list_events(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
    """`GET /v1/events` by `type` (with `*` wildcards), `types[]` and `created[gte]` etc."""
    del path
    events = sim.store.all("event")
    if params.get("type"):
        events = [e for e in events if fnmatchcase(e["type"], str(params["type"]))]
    if params.get("types"):
        types = params["types"]
        types = [types] if isinstance(types, str) else types
        events = [e for e in events if e["type"] in types]
    created = params.get("created")
    if isinstance(created, dict):
        for op, bound in as_dict(created, "created").items():
            if op in _COMPARISONS:
                limit = as_int(bound, f"created[{op}]")
                events = [e for e in events if _COMPARISONS[op](e["created"], limit)]
    elif created not in (None, ""):
        events = [e for e in events if e["created"] == as_int(created, "created")]
    return paginate(events, params, "/v1/events")


async def unknown(request: Request) -> JSONResponse:
    """Any other `/v1` path: Stripe's 404 `Unrecognized request URL` (logged like the rest)."""
    error = unrecognized_url(request.method, request.url.path)
    params = decode_form(request.url.query)
    params.update(decode_form((await request.body()).decode("utf-8", "replace")))
    await run_in_threadpool(_log, request, params, error.status)
    return JSONResponse(error.to_dict(), error.status)


def _log(request: Request, params: Params, status: int) -> None:
    sim: Simulator = request.app.state.sim
    with sim.lock:
        log_request(sim.store, request, params, status, new_id("req_", 14))


ROUTES = [
    api_route("/v1/events", list_events),
    api_route("/v1/events/{id}", retrieve("event")),
]
CATCH_ALL = [Route("/v1/{rest:path}", unknown, methods=["GET", "POST", "DELETE"])]
