"""Every access token the API must refuse, refused over HTTP with nothing written."""

from __future__ import annotations

import time

import jwt
import pytest

from credits_app.settings import get_settings
from tests.api.conftest import FEATURE, assert_error, bearer, spend_body

SPEND = "/api/credits/spend"
ENTITLEMENTS = "/api/me/entitlements"


def claims_for(user_id: int, **changes) -> dict:
    now = int(time.time())
    claims = {
        "iss": "credits",
        "sub": str(user_id),
        "feature": FEATURE,
        "iat": now,
        "exp": now + 60,
        "jti": "j1",
        **changes,
    }
    return {name: value for name, value in claims.items() if value is not None}


def forged(claims: dict, *, secret: str | None = None, algorithm: str = "HS256") -> dict:
    secret = get_settings().access_token_secret if secret is None else secret
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm=algorithm)}"}


def unsigned(claims: dict) -> dict:
    token = jwt.encode(claims, None, algorithm="none")
    return {"Authorization": f"Bearer {token}"}


def rejections(user_id: int) -> dict[str, dict]:
    now = int(time.time())
    secret = get_settings().access_token_secret
    return {
        "expired": forged(claims_for(user_id, iat=now - 120, exp=now - 60)),
        "bad signature": forged(claims_for(user_id), secret="not-the-server-secret-" * 2),
        "alg none": unsigned(claims_for(user_id)),
        "HS512": forged(claims_for(user_id), secret=secret, algorithm="HS512"),
        "HS384": forged(claims_for(user_id), secret=secret, algorithm="HS384"),
        "no exp": forged({k: v for k, v in claims_for(user_id).items() if k != "exp"}),
        "no sub": forged({k: v for k, v in claims_for(user_id).items() if k != "sub"}),
        "other issuer": forged(claims_for(user_id, iss="someone-else")),
        "not a jwt": {"Authorization": "Bearer not.a.token"},
        "garbage": {"Authorization": "Bearer ~~~"},
        "basic scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
        "no header": {},
        "empty bearer": {"Authorization": "Bearer "},
    }


CASES = list(rejections(1))


@pytest.mark.parametrize("case", CASES)
def test_a_bad_token_is_401_and_spends_nothing(client, user, case, ledger_ok):
    headers = rejections(user.id)[case]

    spent = client.post(SPEND, json=spend_body(5), headers=headers)
    read = client.get(ENTITLEMENTS, headers=headers)

    for response in (spent, read):
        assert_error(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"
    balance = client.get(ENTITLEMENTS, headers=bearer(user.id)).json()["balance"]
    assert balance == 100
    ledger_ok()


def test_a_token_of_another_feature_cannot_spend_but_can_read(client, user, ledger_ok):
    other = bearer(user.id, feature="image-gen")

    spent = client.post(SPEND, json=spend_body(5), headers=other)
    read = client.get(ENTITLEMENTS, headers=other)

    assert_error(spent, 403, "forbidden")
    assert read.status_code == 200 and read.json()["balance"] == 100
    ledger_ok()
