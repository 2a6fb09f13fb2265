"""Decoding of Stripe's bracketed form encoding (`a[b][0][c]=v`) into nested values."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_TOKEN = re.compile(r"\[([^\[\]]*)\]")
# Metadata keys are free text chosen by the caller, so digit keys there stay dict keys.
_FREE_FORM_KEYS = frozenset({"metadata"})


def split_key(key: str) -> list[str]:
    """Split `line_items[0][price]` into `["line_items", "0", "price"]`."""
    head, bracket, _ = key.partition("[")
    if not bracket:
        return [key]
    return [head, *_TOKEN.findall(key[len(head) :])]


def decode_pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Build nested dicts and lists from decoded key/value pairs.

    Args:
        pairs: `(key, value)` pairs in wire order; `[]` appends to a list.

    Returns:
        The nested parameters; bracketed integer keys become lists ordered by index.
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        tokens = split_key(key)
        node = root
        for position, token in enumerate(tokens):
            if token == "":
                token = str(len(node))
            if position == len(tokens) - 1:
                node[token] = value
            else:
                child = node.get(token)
                if not isinstance(child, dict):
                    child = node[token] = {}
                node = child
    return _listify(root, parent="")


def decode_form(body: str) -> dict[str, Any]:
    """Decode an `application/x-www-form-urlencoded` body or a query string."""
    return decode_pairs(parse_qsl(body, keep_blank_values=True))


def _listify(value: Any, parent: str) -> Any:
    if not isinstance(value, dict):
        return value
    items = {key: _listify(child, key) for key, child in value.items()}
    if items and parent not in _FREE_FORM_KEYS and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items
