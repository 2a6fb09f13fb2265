"""Registering and authenticating people."""

from __future__ import annotations

import pytest
from sqlmodel import select

from credits_app.models import User
from credits_app.services.errors import InvalidRequest, Unauthorized
from credits_app.services.users import (
    EmailTaken,
    authenticate,
    create_user,
    find_user_by_email,
    set_admin,
)


def test_a_registered_user_can_log_in_and_only_the_hash_is_stored(session):
    user = create_user(session=session, email=" Ada@Example.com ", password="analytical-engine")

    found = authenticate(session=session, email="ada@example.com", password="analytical-engine")
    stored = session.exec(select(User.password_hash).where(User.id == user.id)).one()

    assert found.id == user.id and found.email == "ada@example.com"
    assert "analytical-engine" not in stored and stored.startswith("$argon2id$")


def test_wrong_password_and_unknown_email_get_the_same_answer(session):
    create_user(session=session, email="ada@example.com", password="analytical-engine")

    with pytest.raises(Unauthorized) as wrong_password:
        authenticate(session=session, email="ada@example.com", password="difference-engine")
    with pytest.raises(Unauthorized) as unknown:
        authenticate(session=session, email="bob@example.com", password="difference-engine")

    assert wrong_password.value.message == unknown.value.message


def test_an_email_can_register_once(session):
    create_user(session=session, email="ada@example.com", password="analytical-engine")

    with pytest.raises(EmailTaken):
        create_user(session=session, email="ADA@example.com", password="another-password")


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        ("not-an-email", "analytical-engine", "email"),
        ("ada@example.com", "short", "password"),
        ("ada@example.com", "aaaaaaaaaaaa", "password"),
        ("ada@example.com", None, "password"),
    ],
)
def test_bad_registrations_name_the_field_and_create_nothing(session, email, password, field):
    with pytest.raises(InvalidRequest) as error:
        create_user(session=session, email=email, password=password)

    assert error.value.field == field
    assert session.exec(select(User)).all() == []


def test_admin_rights_can_be_given_and_taken(session):
    create_user(session=session, email="ada@example.com", password="analytical-engine")

    assert set_admin(session=session, email="ada@example.com").is_admin
    assert not set_admin(session=session, email="ada@example.com", is_admin=False).is_admin
    assert not find_user_by_email(session=session, email="ada@example.com").is_admin
