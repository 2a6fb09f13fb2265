"""Request ids in log records, and the optional JSON log format (LOG_FORMAT=json).

The API middleware puts each request's id in a context variable; it follows the request
into the thread that runs a route and into every service it calls, so each log record
written meanwhile carries `request_id`. With LOG_FORMAT=json every line is one JSON object.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is kept when it is short and plain; anything else gets a new one.
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_HANDLER_NAME = "credits-json"
# The attributes every LogRecord has; anything else was passed with `extra=` and is kept.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}

request_id: ContextVar[str | None] = ContextVar("credits_request_id", default=None)


def request_id_from(header: str | None) -> str:
    """The id to use for a request: the client's `X-Request-ID` if plain, else a new one."""
    if header and _CLIENT_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request's id (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add `record.request_id`; never drops a record."""
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as one line of JSON."""
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        data.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def configure_logging(log_format: str) -> None:
    """Send the root logger's records to stderr as JSON when `log_format` is `json`.

    Safe to call more than once (one handler). The app's own loggers (`credits_app.*`) log
    from INFO up; others keep their levels. With `text` nothing changes.
    """
    if log_format != "json":
        return
    root = logging.getLogger()
    if any(handler.get_name() == _HANDLER_NAME for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    app_logger = logging.getLogger("credits_app")
    if app_logger.level == logging.NOTSET:
        app_logger.setLevel(logging.INFO)
