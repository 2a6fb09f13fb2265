"""The README path: create a user and mint a token with the CLI, then grant and spend over HTTP."""

from __future__ import annotations

import json

from tests.api.conftest import ADMIN_KEY, FEATURE, assert_error, key
from tests.support.cli import assert_check_ok, run_cli


def cli_json(db_url: str, *args: str) -> dict:
    result = run_cli(db_url, *args, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_a_cli_user_and_cli_token_spend_through_the_api(client, db_url):
    user = cli_json(db_url, "create-user", "walk@example.com", "--password", "walkthrough-pw")
    user_id = user["id"]
    token = cli_json(db_url, "token", str(user_id), FEATURE, "--ttl", "120")["token"]
    auth = {"Authorization": f"Bearer {token}"}

    granted = client.post(
        "/api/credits/grant",
        json={"userId": user_id, "amount": 100, "reason": "welcome", "idempotencyKey": key()},
        headers={"x-admin-key": ADMIN_KEY},
    )
    body = {"amount": 10, "feature": FEATURE, "idempotencyKey": "walk-1"}
    spent = client.post("/api/credits/spend", json=body, headers=auth)
    other = client.post("/api/credits/spend", json={**body, "feature": "other"}, headers=auth)

    assert granted.json()["balance"] == 100
    assert spent.status_code == 200 and spent.json()["balance"] == 90
    assert_error(other, 403, "forbidden")
    assert_check_ok(db_url)
