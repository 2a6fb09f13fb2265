"""A reader of the server-sent events the example AI route streams."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx


def sse_events(response: httpx.Response) -> Iterator[tuple[str, dict]]:
    """Yield (event, data) of each server-sent event as it arrives."""
    kind, data = "", ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif not line and kind:
            yield kind, json.loads(data)
            kind, data = "", ""
