"""Build the FastAPI app that Reflex mounts in front of its own routes."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import NoReturn

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from credits_app.api.errors import install_error_handlers
from credits_app.api.limits import RequestSizeLimit
from credits_app.api.security_headers import SecurityHeaders, origins_of
from credits_app.observability.logs import configure_logging
from credits_app.observability.middleware import RequestObservation
from credits_app.services.errors import NotFound
from credits_app.settings import get_settings

# Each module exposes `router`; the order is the order in the OpenAPI document.
ROUTER_MODULES = (
    "credits_app.api.routes.credits",
    "credits_app.api.routes.holds",
    "credits_app.api.routes.me",
    "credits_app.api.routes.example",
    "credits_app.api.routes.billing",
    "credits_app.api.routes.webhooks",
    "credits_app.api.routes.health",
)
API_PREFIX = "/api"
FALLBACK_NAME = "api_fallback"
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
DESCRIPTION = (
    "Spend, grant and read credits. Errors are always "
    '`{"error": {"code", "message", ...}}`; see docs/api.md.'
)


def _allowed_methods(request: Request) -> set[str]:
    """Methods some API route would accept at this request's path."""
    routes = [
        route
        for route in request.app.router.routes
        if not isinstance(route, Mount) and getattr(route, "name", None) != FALLBACK_NAME
    ]
    allowed = set()
    for method in ALL_METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in routes):
            allowed.add(method)
    return allowed


def _fallback(request: Request) -> NoReturn:
    """Answer unknown /api paths with 404 and known paths with a wrong method with 405.

    Reflex's app is mounted under "" after our routes, so without this it would answer /api.
    """
    allowed = _allowed_methods(request)
    if allowed:
        headers = {"Allow": ", ".join(sorted(allowed))}
        raise StarletteHTTPException(405, f"{request.method} is not allowed here", headers)
    raise NotFound("no API endpoint at this path")


def _add_fallback(api: FastAPI) -> None:
    """Add the catch-all last, directly on the app, so it matches only what nothing else did."""
    for path in (API_PREFIX, API_PREFIX + "/{rest:path}"):
        api.add_api_route(
            path,
            _fallback,
            methods=ALL_METHODS,
            name=FALLBACK_NAME,
            response_model=None,
            include_in_schema=False,
        )


def create_api(*, backend_urls: Sequence[str] = ()) -> FastAPI:
    """Create the API app with every router, the error contract, the size limit and headers.

    The schema stays at /api/openapi.json in every mode (it says what docs/api.md says);
    the interactive docs at /api/docs are off in production unless API_DOCS=1.

    Args:
        backend_urls: Addresses the browser uses for the backend (Reflex's `api_url`), which
            the pages' policy lets them connect to besides SITE_URL and their own origin.

    Raises:
        ConfigError: When the settings are unusable (e.g. a short ADMIN_API_KEY in production).
    """
    # Refuse to start on bad configuration rather than fail on the first request.
    settings = get_settings()
    api = FastAPI(
        title="Credits API",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs" if settings.api_docs_enabled else None,
        redoc_url=None,
    )
    install_error_handlers(api)
    configure_logging(settings.log_format)
    api.add_middleware(RequestSizeLimit, prefix=API_PREFIX)
    # Outside the size limit, so its answers are counted and carry the request id too.
    api.add_middleware(RequestObservation, api_prefix=API_PREFIX)
    # Added last, so it wraps the rest: size-limit answers and Reflex's mounted app too.
    api.add_middleware(
        SecurityHeaders,
        production=settings.is_production,
        connect=origins_of(*backend_urls, settings.site_url),
        api_prefix=API_PREFIX,
        docs_path=f"{API_PREFIX}/docs",
    )
    for name in ROUTER_MODULES:
        api.include_router(importlib.import_module(name).router)
    _add_fallback(api)
    return api
