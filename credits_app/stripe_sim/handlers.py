"""Generic retrieve and list handlers shared by the resource routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .listing import filtered, paginate
from .params import Params
from .simulator import Simulator

Obj = dict[str, Any]


def retrieve(kind: str) -> Callable[[Simulator, Params, dict[str, str]], Obj]:
    """Handler for `GET /v1/<things>/{id}`."""

    def handler(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
        del params
        return sim.store.get(kind, path["id"])

    return handler


def list_of(
    kind: str, url: str, filters: dict[str, Callable[[Any], Any]] | None = None
) -> Callable[[Simulator, Params, dict[str, str]], Obj]:
    """Handler for `GET /v1/<things>` with equality filters and pagination.

    Args:
        kind: The `object` type listed.
        url: The list's path.
        filters: Query parameter → function turning it into the value the object's field of
            the same name must equal (e.g. `{"customer": str}`).
    """

    def handler(sim: Simulator, params: Params, path: dict[str, str]) -> Obj:
        del path
        items = filtered(sim.store.all(kind), params, filters or {})
        return paginate(items, params, url)

    return handler


def flag(value: Any) -> bool:
    """Turn a `true`/`false` query value into a bool for filters."""
    return str(value).lower() == "true"
