"""Accounts of people who log in, their browser sessions and their one-time email links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from credits_app.models.base import UTCDateTime, utcnow


class User(SQLModel, table=True):
    """A person with a login; owns one personal credit account."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=Column(String(320), nullable=False, unique=True))
    password_hash: str = Field(sa_column=Column(String(255), nullable=False))
    is_admin: bool = Field(default=False, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # Set when the owner followed a verification or reset link; login needs it.
    email_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuthSession(SQLModel, table=True):
    """A browser login; only a hash of its token is stored."""

    __tablename__ = "auth_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=False, index=True)
    )
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # Absolute end of the session, whatever its activity.
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # Refreshed at most once a minute; the idle timeout counts from here.
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    user_agent: str = Field(
        default="", sa_column=Column(String(255), nullable=False, server_default="")
    )
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EmailToken(SQLModel, table=True):
    """A one-time link sent by email (verify the address, reset the password); only its hash."""

    __tablename__ = "email_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=False, index=True)
    )
    purpose: str = Field(sa_column=Column(String(16), nullable=False))
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
