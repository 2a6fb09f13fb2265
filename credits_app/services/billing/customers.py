"""One Stripe customer per user, created on first purchase and reused after."""

from __future__ import annotations

import hashlib
from typing import Any

import stripe
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from credits_app.db import per_statement_session
from credits_app.models import Customer, User
from credits_app.services.billing.stripe_client import get_stripe_client, stripe_errors
from credits_app.services.errors import UserNotFound


def customer_id_of(*, session: Session, user_id: int) -> str | None:
    """Return the user's Stripe customer id, or None before their first checkout."""
    query = select(Customer.stripe_customer_id).where(Customer.user_id == user_id)
    return session.exec(query).first()


def user_of_customer(*, session: Session, stripe_customer_id: str | None) -> int | None:
    """Return the user owning a Stripe customer id, if it is one of ours."""
    if not stripe_customer_id:
        return None
    query = select(Customer.user_id).where(Customer.stripe_customer_id == stripe_customer_id)
    return session.exec(query).first()


def ensure_customer(*, session: Session, user_id: int, replacing: str | None = None) -> str:
    """Return the user's Stripe customer id, creating the customer on first use.

    The creation request carries an idempotency key derived from the user id, so two
    concurrent first checkouts get the same Stripe customer instead of two. `replacing`
    names a vanished customer being replaced, so the key differs from the first creation's.

    Raises:
        UserNotFound: When the user does not exist.
        Unavailable: When Stripe cannot be reached.
    """
    with per_statement_session(session.get_bind()) as reader:
        existing = customer_id_of(session=reader, user_id=user_id)
        user = None if existing else reader.get(User, user_id)
    if existing:
        return existing
    if user is None:
        raise UserNotFound(f"no user with id {user_id}")
    params: Any = {"email": user.email, "metadata": {"user_id": str(user_id)}}
    # Unique to this user row, so a reset database never inherits another user's customer.
    stamp = hashlib.sha256(f"{user.email}|{user.created_at.isoformat()}".encode()).hexdigest()
    key = f"credits-customer-{user_id}-{stamp[:16]}" + (f"-after-{replacing}" if replacing else "")
    options: Any = {"idempotency_key": key}
    with stripe_errors("create a customer"):
        created = get_stripe_client().v1.customers.create(params, options)
    try:
        session.add(Customer(user_id=user_id, stripe_customer_id=created.id))
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = customer_id_of(session=session, user_id=user_id)
        session.rollback()
        if existing is None:
            raise
        return existing
    return created.id


def is_missing_customer(exc: stripe.InvalidRequestError) -> bool:
    """Tell whether Stripe refused a request because the customer no longer exists."""
    return exc.code == "resource_missing" and exc.param == "customer"


def forget_customer(*, session: Session, user_id: int) -> None:
    """Drop a user's customer row whose Stripe customer is gone (e.g. a restarted simulator).

    The next checkout creates a new customer.
    """
    session.exec(delete(Customer).where(Customer.user_id == user_id))
    session.commit()
