"""Translate every error into the API's JSON error body `{"error": {code, message, ...}}`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from credits_app.services.errors import CreditsError, RateLimited

logger = logging.getLogger("credits_app.api")

# One table for the whole API; an unlisted code without `http_status` is a client error (400).
STATUS_BY_CODE = {
    "invalid_request": 422,
    "unauthorized": 401,
    "insufficient_credits": 402,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "idempotency_conflict": 409,
    "payload_too_large": 413,
    "rate_limited": 429,
    "internal": 500,
    "internal_error": 500,
    "unavailable": 503,
}
CODE_BY_HTTP_STATUS = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "invalid_request",
    422: "invalid_request",
    429: "rate_limited",
    503: "unavailable",
}
DATABASE_RETRY_AFTER_SECONDS = 5
# Errors SQLAlchemy raises when the database cannot be reached or is too busy to answer.
DATABASE_DOWN = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    sa_exc.DisconnectionError,
)


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Build the one error body shape every endpoint uses."""
    extra = {k: v for k, v in (details or {}).items() if k not in ("code", "message")}
    body = {"code": code, "message": message, **extra}
    return JSONResponse({"error": body}, status_code=status, headers=headers)


async def credits_error(_request: Request, exc: Exception) -> JSONResponse:
    """Map a domain error to its status by its code."""
    assert isinstance(exc, CreditsError)
    # A service error may name its status (`http_status`) for codes this table does not know.
    status = getattr(exc, "http_status", None) or STATUS_BY_CODE.get(exc.code, 400)
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(max(1, int(exc.retry_after)))
    elif status == 503:
        headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    elif status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 500:
        logger.error("internal error %s: %s", exc.code, exc.message)
        return error_response(status, "internal_error", "internal error", headers=headers)
    return error_response(status, exc.code, exc.message, exc.details(), headers)


def _field_of(location: tuple | list) -> str:
    parts = [str(p) for p in location]
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """Turn FastAPI's validation errors into `invalid_request`, naming the field (no input echo)."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"field": _field_of(e.get("loc", ())), "message": str(e.get("msg", "is invalid"))}
        for e in exc.errors()
    ] or [{"field": "body", "message": "is invalid"}]
    first = problems[0]
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        return error_response(400, "invalid_request", "body: is not valid JSON", {"field": "body"})
    message = f"{first['field']}: {first['message']}"
    return error_response(
        422, "invalid_request", message, {"field": first["field"], "errors": problems}
    )


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    """Turn Starlette's own errors (404, 405, 413, a bad body) into the error body."""
    assert isinstance(exc, StarletteHTTPException)
    code = CODE_BY_HTTP_STATUS.get(exc.status_code, "invalid_request")
    if exc.status_code >= 500:
        code = "unavailable" if exc.status_code == 503 else "internal_error"
    # Starlette fills `detail` with the status phrase when none was given.
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail else code
    details = {"field": "body"} if exc.status_code == 400 else None
    headers = dict(exc.headers or {})
    return error_response(exc.status_code, code, detail, details, headers)


async def database_down(_request: Request, exc: Exception) -> JSONResponse:
    """Answer 503 when the database cannot be reached; clients retry later."""
    # The driver message names host and port, never the password; it is for the operator.
    first_line = str(getattr(exc, "orig", exc)).splitlines()[0] if str(exc) else ""
    logger.warning("database unavailable: %s: %s", type(exc).__name__, first_line)
    return error_response(
        503,
        "unavailable",
        "the database is unavailable; retry later",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


async def unstorable_value(_request: Request, exc: Exception) -> JSONResponse:
    """Answer 422 when the database refuses a value (e.g. a NUL character on PostgreSQL).

    Validation should catch such values first; this keeps a gap there from becoming a 500.
    """
    logger.warning("database refused a value: %s", type(getattr(exc, "orig", exc)).__name__)
    return error_response(
        422, "invalid_request", "body: a value cannot be stored", {"field": "body"}
    )


async def unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    """Log a bug and answer 500 without details (no input should ever get here)."""
    logger.error("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "internal error")


def install_error_handlers(api: FastAPI) -> None:
    """Register the API's only exception translation point."""
    api.add_exception_handler(CreditsError, credits_error)
    api.add_exception_handler(RequestValidationError, validation_error)
    api.add_exception_handler(StarletteHTTPException, http_error)
    for error in DATABASE_DOWN:
        api.add_exception_handler(error, database_down)
    api.add_exception_handler(sa_exc.DataError, unstorable_value)
    api.add_exception_handler(Exception, unexpected_error)
