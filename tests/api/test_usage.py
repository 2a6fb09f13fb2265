"""GET /api/me/usage: the token user's usage per UTC day or per feature over a range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from credits_app.services.ledger import grant_credits, spend_credits
from credits_app.services.lots import LotTerms
from tests.api.conftest import assert_error, bearer, key

USAGE = "/api/me/usage"
TODAY = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)


def _days_ago(n: int) -> str:
    return (TODAY - timedelta(days=n)).date().isoformat()


@pytest.fixture
def used(session, user):
    """The user's usage: chat 5 + 7 two days ago, image 3 yesterday, chat 1 today."""
    grant_credits(
        session=session, user_id=user.id, amount=50, reason="old", idempotency_key=key(),
        terms=LotTerms(effective_at=TODAY - timedelta(days=10)),
    )  # fmt: skip
    for feature, amount, days_ago in [("chat", 5, 2), ("chat", 7, 2), ("image", 3, 1)]:
        spend_credits(
            session=session, user_id=user.id, amount=amount, feature=feature,
            idempotency_key=key(), now=TODAY - timedelta(days=days_ago),
        )  # fmt: skip
    spend_credits(session=session, user_id=user.id, amount=1, feature="chat", idempotency_key=key())
    return user


def test_usage_per_day_lists_every_day_of_the_range_with_its_features(client, used, ledger_ok):
    query = {"from": _days_ago(3), "to": _days_ago(0)}

    body = client.get(USAGE, headers=bearer(used.id), params=query).json()

    assert body == {
        "from": _days_ago(3),
        "to": _days_ago(0),
        "groupBy": "day",
        "credits": 16,
        "uses": 4,
        "items": [
            {"date": _days_ago(3), "credits": 0, "uses": 0, "byFeature": {}},
            {"date": _days_ago(2), "credits": 12, "uses": 2, "byFeature": {"chat": 12}},
            {"date": _days_ago(1), "credits": 3, "uses": 1, "byFeature": {"image": 3}},
            {"date": _days_ago(0), "credits": 1, "uses": 1, "byFeature": {"chat": 1}},
        ],
    }
    ledger_ok()


def test_usage_per_feature_puts_the_biggest_first(client, used):
    query = {"from": _days_ago(1), "groupBy": "feature"}

    body = client.get(USAGE, headers=bearer(used.id), params=query).json()

    # `to` defaults to 29 days after `from`.
    assert (body["from"], body["to"]) == (_days_ago(1), _days_ago(-28))
    assert body["items"] == [
        {"feature": "image", "credits": 3, "uses": 1},
        {"feature": "chat", "credits": 1, "uses": 1},
    ]
    assert (body["credits"], body["uses"]) == (4, 2)


def test_the_default_range_is_the_last_30_days(client, used):
    body = client.get(USAGE, headers=bearer(used.id)).json()

    assert (body["from"], body["to"]) == (_days_ago(29), _days_ago(0))
    assert len(body["items"]) == 30
    assert body["credits"] == 16


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"from": "2026-11-10", "to": "2026-11-09"}, "from"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "to"),
        ({"groupBy": "week"}, "groupBy"),
    ],
)
def test_a_bad_range_or_grouping_is_a_422_naming_the_field(client, user, params, field):
    error = assert_error(client.get(USAGE, headers=bearer(user.id), params=params), 422,
                         "invalid_request")  # fmt: skip

    assert error["field"] == field


def test_a_token_reads_only_its_own_usage_and_an_unknown_user_is_404(client, used, other_user):
    theirs = client.get(USAGE, headers=bearer(other_user.id), params={"userId": used.id})

    assert theirs.json()["credits"] == 0
    assert_error(client.get(USAGE, headers=bearer(used.id + 999)), 404, "not_found")
    assert_error(client.get(USAGE), 401, "unauthorized")
