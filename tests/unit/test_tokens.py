"""Access tokens: bound to a user and a feature, short-lived, HS256 only."""

from __future__ import annotations

import time

import jwt
import pytest

from credits_app.services.errors import Forbidden, InvalidRequest, Unauthorized
from credits_app.services.tokens import generate_access_token, verify_access_token
from credits_app.settings import get_settings


def forge(claims: dict, *, secret: str | None = None, algorithm: str = "HS256") -> str:
    key = secret if secret is not None else get_settings().access_token_secret
    return jwt.encode(claims, key, algorithm=algorithm)


def valid_claims(**overrides) -> dict:
    now = int(time.time())
    claims = {
        "iss": "credits",
        "sub": "7",
        "feature": "chat",
        "iat": now,
        "exp": now + 60,
        "jti": "abc",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_a_token_names_its_user_and_feature_and_expires_in_60_seconds():
    before = int(time.time())

    claims = verify_access_token(generate_access_token(7, "chat"), feature="chat")

    assert (claims.user_id, claims.feature) == (7, "chat")
    assert before + 59 <= claims.expires_at <= int(time.time()) + 60


def test_each_token_has_its_own_id():
    first = verify_access_token(generate_access_token(7, "chat"))
    second = verify_access_token(generate_access_token(7, "chat"))

    assert first.token_id != second.token_id


def test_a_token_for_another_feature_is_forbidden():
    with pytest.raises(Forbidden):
        verify_access_token(generate_access_token(7, "chat"), feature="image")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: forge(valid_claims(exp=int(time.time()) - 1)), id="expired"),
        pytest.param(
            lambda: forge(valid_claims(), secret="another-secret-" * 3), id="bad-signature"
        ),
        pytest.param(lambda: forge(valid_claims(), secret="", algorithm="none"), id="alg-none"),
        pytest.param(lambda: forge(valid_claims(exp=None)), id="no-exp"),
        pytest.param(lambda: forge(valid_claims(feature=None)), id="no-feature"),
        pytest.param(lambda: forge(valid_claims(iss="someone-else")), id="other-issuer"),
        pytest.param(lambda: forge(valid_claims(sub="admin")), id="non-numeric-subject"),
        pytest.param(lambda: forge(valid_claims(sub="9" * 20)), id="subject-beyond-any-user-id"),
        pytest.param(lambda: forge(valid_claims(sub="0")), id="subject-zero"),
        pytest.param(
            lambda: forge(
                valid_claims(), secret=get_settings().access_token_secret, algorithm="HS512"
            ),
            id="other-algorithm",
        ),
        pytest.param(lambda: "not.a.token", id="garbage"),
        pytest.param(lambda: generate_access_token(7, "chat")[:-2] + "xx", id="tampered"),
    ],
)
def test_verification_rejects_forged_expired_and_malformed_tokens(token):
    with pytest.raises(Unauthorized):
        verify_access_token(token(), feature="chat")


def test_a_token_can_live_longer_when_asked_but_not_forever():
    claims = verify_access_token(generate_access_token(7, "chat", ttl_seconds=600))

    assert claims.expires_at >= int(time.time()) + 599
    with pytest.raises(InvalidRequest):
        generate_access_token(7, "chat", ttl_seconds=0)
    with pytest.raises(InvalidRequest):
        generate_access_token(7, "has space")
