"""Dependencies every route uses: database session, settings, bearer claims, admin key."""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from credits_app.db import get_engine, read_session
from credits_app.services.errors import Forbidden, InvalidRequest, Unauthorized, Unavailable
from credits_app.services.tokens import AccessClaims, verify_access_token
from credits_app.settings import Settings, get_settings

bearer_scheme = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="An access token from `generate_access_token(user_id, feature)` "
    "or `python -m credits_app token USER_ID FEATURE`.",
)
admin_key_scheme = APIKeyHeader(
    name="x-admin-key", auto_error=False, description="The server's ADMIN_API_KEY."
)


def current_settings() -> Settings:
    """Return the process-wide settings."""
    return get_settings()


def get_session() -> Iterator[Session]:
    """Yield a session for one request; services commit their own units of work."""
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


def get_read_session() -> Iterator[Session]:
    """Yield a read-only session (on SQLite it does not take the write lock)."""
    with read_session() as session:
        yield session


def bearer_claims(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> AccessClaims:
    """Verify the `Authorization: Bearer` access token (any feature) and return its claims.

    Raises:
        Unauthorized: When the header is missing or the token is invalid or expired.
    """
    if credentials is None or not credentials.credentials:
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <access token>'")
    return verify_access_token(credentials.credentials)


# The feature a token must name to buy credits or open the billing portal: a token minted
# for an AI feature must not be able to spend the user's money.
BILLING_FEATURE = "billing"


def billing_claims(claims: Annotated[AccessClaims, Depends(bearer_claims)]) -> AccessClaims:
    """Verify the bearer token and require that it was minted for feature `billing`.

    Raises:
        Unauthorized: As `bearer_claims`.
        Forbidden: When the token is for another feature.
    """
    if claims.feature != BILLING_FEATURE:
        raise Forbidden(
            f"this token is for feature {claims.feature!r}; billing needs a token for "
            f"{BILLING_FEATURE!r}"
        )
    return claims


def require_admin_key(
    settings: Annotated[Settings, Depends(current_settings)],
    key: Annotated[str | None, Security(admin_key_scheme)],
) -> None:
    """Check `x-admin-key` against ADMIN_API_KEY in constant time.

    Raises:
        Unavailable: When no ADMIN_API_KEY is configured (the admin API is disabled).
        Unauthorized: When the key is missing or wrong.
    """
    expected = settings.admin_api_key
    if not expected:
        raise Unavailable("admin API disabled: set ADMIN_API_KEY to enable it")
    given = (key or "").encode("utf-8", "surrogateescape")
    # compare_digest takes time independent of where the first difference is.
    if not hmac.compare_digest(given, expected.encode("utf-8")):
        raise Unauthorized("missing or wrong x-admin-key")


SettingsDep = Annotated[Settings, Depends(current_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]
ClaimsDep = Annotated[AccessClaims, Depends(bearer_claims)]
BillingClaimsDep = Annotated[AccessClaims, Depends(billing_claims)]
AdminKeyDep = Annotated[None, Depends(require_admin_key)]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def json_body(request: Request) -> dict[str, Any]:
    """Read the request body as a JSON object.

    Raises:
        InvalidRequest: When the body is empty, not JSON, or not an object (field `body`).
    """
    raw = await request.body()
    if not raw.strip():
        raise InvalidRequest("body", "must be a JSON object")
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise InvalidRequest("body", "is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidRequest("body", "must be a JSON object")
    try:
        # Lone surrogates ("\ud800") are valid JSON escapes, but no database can store them.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest("body", "contains an invalid unicode escape") from None
    return value
