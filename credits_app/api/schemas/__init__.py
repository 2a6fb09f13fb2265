"""Request and response models of the HTTP API (separate from the database tables)."""

from credits_app.api.schemas.common import (
    ApiModel,
    ErrorBody,
    ErrorDetail,
    ResponseModel,
    error_responses,
)
from credits_app.api.schemas.credits import GrantRequest, LedgerWriteResponse, SpendRequest
from credits_app.api.schemas.me import EntitlementsResponse

__all__ = [
    "ApiModel",
    "EntitlementsResponse",
    "ErrorBody",
    "ErrorDetail",
    "GrantRequest",
    "LedgerWriteResponse",
    "ResponseModel",
    "SpendRequest",
    "error_responses",
]
