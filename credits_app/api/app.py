"""Build the FastAPI app that Reflex mounts in front of its own routes."""

from __future__ import annotations

import importlib

from fastapi import FastAPI

# Each module exposes `router`; the order is the order in the OpenAPI document.
ROUTER_MODULES = (
    "credits_app.api.routes.credits",
    "credits_app.api.routes.holds",
    "credits_app.api.routes.me",
    "credits_app.api.routes.example",
    "credits_app.api.routes.billing",
    "credits_app.api.routes.webhooks",
)


def create_api() -> FastAPI:
    """Create the API app with every router included."""
    api = FastAPI(
        title="Credits API",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    for name in ROUTER_MODULES:
        api.include_router(importlib.import_module(name).router)
    return api
