"""The command line, run as a real subprocess against a test database."""

from __future__ import annotations

import json

import pytest

from tests.support.cli import assert_check_ok, run_cli


def test_create_user_grant_balance_and_history(db_url):
    created = run_cli(
        db_url, "create-user", "ops@example.com", "--password", "s3cret-pass", "--admin"
    )
    user_id = created.stdout.strip()

    granted = run_cli(db_url, "grant", user_id, "250", "--reason", "welcome", "--key", "w-1")
    replayed = run_cli(db_url, "grant", user_id, "250", "--reason", "welcome", "--key", "w-1")
    balance = run_cli(db_url, "balance", user_id, "--json")
    history = run_cli(db_url, "history", user_id)

    assert created.returncode == 0 and user_id.isdigit()
    assert granted.returncode == 0 and "granted 250" in granted.stdout
    assert "replayed" in replayed.stdout
    assert json.loads(balance.stdout)["balance"] == 250
    assert "welcome" in history.stdout and "+250" in history.stdout
    assert_check_ok(db_url)


def test_cli_errors_are_one_readable_line_and_exit_non_zero(db_url):
    missing_user = run_cli(db_url, "balance", "4242")
    bad_amount = run_cli(db_url, "grant", "1", "0", "--reason", "r", "--key", "k")
    weak_password = run_cli(db_url, "create-user", "a@example.com", "--password", "short")
    huge_id = run_cli(db_url, "balance", "9" * 20)

    assert missing_user.returncode == 1
    assert missing_user.stderr.strip() == "error: no user with id 4242"
    assert bad_amount.returncode == 1 and "amount" in bad_amount.stderr
    assert weak_password.returncode == 1 and "password" in weak_password.stderr
    assert huge_id.returncode == 2 and "user ids run from 1" in huge_id.stderr
    assert "Traceback" not in missing_user.stderr + bad_amount.stderr + weak_password.stderr
    assert "Traceback" not in huge_id.stderr


@pytest.mark.ledger_corrupted("a test of check: it corrupts the ledger")
def test_check_exits_non_zero_and_lists_each_violation(db_url, session):
    from sqlalchemy import text

    user_id = run_cli(db_url, "create-user", "a@example.com", "--password", "s3cret-pass").stdout
    run_cli(db_url, "grant", user_id.strip(), "10", "--reason", "r", "--key", "k")
    session.exec(text("UPDATE credit_account SET balance = 99"))
    session.commit()

    result = run_cli(db_url, "check")

    assert result.returncode == 1
    assert "balance row is 99 but its entries sum to 10" in result.stdout


def test_an_unreachable_database_is_reported_not_a_traceback(tmp_path):
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"

    result = run_cli(url, "balance", "1")

    assert result.returncode == 1
    assert result.stderr.startswith("error: database unavailable")


def test_token_prints_a_token_the_api_accepts_for_that_user(db_url):
    from credits_app.services.tokens import verify_access_token

    user_id = run_cli(db_url, "create-user", "a@example.com", "--password", "s3cret-pass").stdout
    result = run_cli(db_url, "token", user_id.strip(), "chat", "--ttl", "120")
    missing = run_cli(db_url, "token", "999", "chat")

    assert result.returncode == 0
    assert verify_access_token(result.stdout.strip(), feature="chat").user_id == int(user_id)
    assert missing.returncode == 1 and "no user with id 999" in missing.stderr
