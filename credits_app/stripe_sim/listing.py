"""Stripe's list envelope with `limit`, `starting_after` and `ending_before` pagination."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .errors import invalid, resource_missing
from .params import Params, optional_int


def paginate(items: list[dict[str, Any]], params: Params, url: str) -> dict[str, Any]:
    """Cut one page out of a newest-first list of objects.

    Args:
        items: All matching objects, newest first.
        params: Request parameters (`limit`, `starting_after`, `ending_before`).
        url: The list's path, echoed in the `url` field.

    Returns:
        `{"object": "list", "data": [...], "has_more": bool, "url": url}`.
    """
    limit = optional_int(params, "limit")
    limit = 10 if limit is None else limit
    if not 1 <= limit <= 100:
        raise invalid("Invalid limit: must be between 1 and 100", param="limit")
    ids = [item["id"] for item in items]
    if params.get("starting_after"):
        start = _position(ids, params["starting_after"], "starting_after", items) + 1
        page, has_more = items[start : start + limit], start + limit < len(items)
    elif params.get("ending_before"):
        end = _position(ids, params["ending_before"], "ending_before", items)
        page, has_more = items[max(0, end - limit) : end], end - limit > 0
    else:
        page, has_more = items[:limit], limit < len(items)
    return {"object": "list", "data": page, "has_more": has_more, "url": url}


def filtered(
    items: Iterable[dict[str, Any]], params: Params, fields: dict[str, Callable[[Any], Any]]
) -> list[dict[str, Any]]:
    """Keep objects whose fields equal the given filter parameters.

    Args:
        items: Candidate objects.
        params: Request parameters.
        fields: Filter parameter name → function turning the raw parameter into the value
            the object's field of the same name must equal.
    """
    wanted = {name: cast(params[name]) for name, cast in fields.items() if name in params}
    return [item for item in items if all(item.get(k) == v for k, v in wanted.items())]


def _position(ids: list[str], cursor: str, param: str, items: list[dict[str, Any]]) -> int:
    if cursor not in ids:
        kind = items[0]["object"] if items else "object"
        raise resource_missing(kind, cursor, param)
    return ids.index(cursor)
