"""Routes for operators: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import ConfigDict

from credits_app.api.errors import error_response
from credits_app.api.schemas import ResponseModel, error_responses
from credits_app.observability import metrics
from credits_app.observability.collectors import HoldGauges
from credits_app.observability.readiness import check_ready
from credits_app.services.errors import Unauthorized
from credits_app.settings import get_settings

router = APIRouter(tags=["operations"])
READY_RETRY_AFTER_SECONDS = "5"
_hold_gauges = HoldGauges()


class HealthResponse(ResponseModel):
    """The process is up and answering."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})
    status: str


class ReadyResponse(ResponseModel):
    """Every check passed; `checks` says each one's result."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "checks": {"database": "ok", "migrations": "ok", "redis": "not configured"},
                }
            ]
        }
    )
    status: str
    checks: dict[str, str]


@router.get("/api/health", summary="Liveness", response_model=HealthResponse)
def health() -> HealthResponse:
    """Answer 200 while the process serves requests; touches neither database nor Redis."""
    return HealthResponse(status="ok")


@router.get(
    "/api/ready",
    summary="Readiness",
    response_model=ReadyResponse,
    responses=error_responses(503),
)
def ready() -> ReadyResponse | JSONResponse:
    """Answer 200 when the database, Redis (if REDIS_URL is set) and migrations are ready.

    Ready means: the database answers, Redis answers PING, and the database's migrations are
    at the code's head. Otherwise 503 `not_ready`, naming what failed in `failed`, with
    every check's result in `checks`.
    """
    result = check_ready()
    if result.ready:
        return ReadyResponse(status="ready", checks=result.checks)
    reasons = "; ".join(f"{name}: {result.checks[name]}" for name in result.failed)
    return error_response(
        503,
        "not_ready",
        f"not ready: {reasons}",
        {"failed": result.failed, "checks": result.checks},
        headers={"Retry-After": READY_RETRY_AFTER_SECONDS},
    )


@router.get("/metrics", include_in_schema=False)
def prometheus_metrics(
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Every metric in Prometheus' text format, summed over the server's workers.

    When METRICS_TOKEN is set, the scraper must send `Authorization: Bearer <token>`.
    """
    token = get_settings().metrics_token
    if token:
        sent = (authorization or "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.encode()):
            raise Unauthorized("GET /metrics needs Authorization: Bearer <METRICS_TOKEN>")
    return Response(metrics.scrape(_hold_gauges), media_type=CONTENT_TYPE_LATEST)
