"""Print command results for people, or as JSON for scripts."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot print {type(value).__name__} as JSON")


def emit(args: argparse.Namespace, text: str, data: dict[str, Any] | list[Any]) -> None:
    """Print `data` as one JSON document with --json, otherwise the human `text`."""
    print(json.dumps(data, default=_default) if args.json else text)
