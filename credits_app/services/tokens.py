"""Short-lived access tokens that let trusted code act for one user and one feature."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

from credits_app.services.errors import Forbidden, InvalidRequest, Unauthorized
from credits_app.services.validation import MAX_USER_ID, validate_feature, validate_user_id
from credits_app.settings import get_settings

ALGORITHM = "HS256"
ISSUER = "credits"
MAX_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class AccessClaims:
    """What a verified token says: who, for which feature, until when."""

    user_id: int
    feature: str
    token_id: str
    expires_at: int


def generate_access_token(user_id: int, feature: str, ttl_seconds: int | None = None) -> str:
    """Mint a signed token (HS256) for one user and one feature.

    The Python counterpart of the original system's `generateAccessToken(userId, feature)`.

    Args:
        user_id: The user the bearer may act for.
        feature: The only feature the bearer may spend or reserve for.
        ttl_seconds: Lifetime; defaults to ACCESS_TOKEN_TTL_SECONDS (60 s).

    Raises:
        InvalidRequest: For a bad user id, feature or lifetime.
    """
    settings = get_settings()
    validate_user_id(user_id)
    validate_feature(feature)
    ttl = settings.access_token_ttl_seconds if ttl_seconds is None else ttl_seconds
    if type(ttl) is not int or not 1 <= ttl <= MAX_TTL_SECONDS:
        raise InvalidRequest("ttl", f"must be between 1 and {MAX_TTL_SECONDS} seconds")
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": str(user_id),
        "feature": feature,
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.access_token_secret, algorithm=ALGORITHM)


def verify_access_token(token: str, *, feature: str | None = None) -> AccessClaims:
    """Check a token's signature, algorithm, issuer and expiry, and optionally its feature.

    Raises:
        Unauthorized: When the token is malformed, forged, expired, uses another algorithm,
            or lacks a required claim.
        Forbidden: When `feature` is given and the token was minted for another feature.
    """
    try:
        claims = jwt.decode(
            token,
            get_settings().access_token_secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "jti", "iss", "feature"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("access token expired; mint a new one") from None
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid access token: {exc}") from None
    subject, token_feature = claims["sub"], claims["feature"]
    if not (isinstance(subject, str) and subject.isdigit() and isinstance(token_feature, str)):
        raise Unauthorized("invalid access token: malformed claims")
    if not 1 <= int(subject) <= MAX_USER_ID:
        raise Unauthorized("invalid access token: no such user id")
    if feature is not None and token_feature != feature:
        raise Forbidden(f"this token is for feature {token_feature!r}, not {feature!r}")
    return AccessClaims(int(subject), token_feature, str(claims["jti"]), int(claims["exp"]))
