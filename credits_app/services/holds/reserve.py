"""Reserve credits: a hold that lowers the available balance until it is captured or released."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Row, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from credits_app.models import EntryKind, HoldStatus, utcnow
from credits_app.services.accounts import waiting_after
from credits_app.services.errors import IdempotencyConflict, InsufficientCredits, InvalidRequest
from credits_app.services.holds.errors import TooManyHolds
from credits_app.services.holds.results import HoldResult
from credits_app.services.holds.store import (
    HOLD_SOURCE,
    ManagedBy,
    hold_ref,
    holds,
    locked_unit,
)
from credits_app.services.journal import AccountState, Movement, entries, post
from credits_app.services.lots import apply_draws, take
from credits_app.services.validation import validate_amount, validate_feature, validate_key
from credits_app.settings import get_settings

DEFAULT_TTL_SECONDS = 300
MAX_TTL_SECONDS = 24 * 3600


def validate_ttl(value: object, field: str = "ttlSeconds") -> int:
    """Return `value` if it is a whole number of seconds within 1..86400.

    Raises:
        InvalidRequest: For anything else (bools, floats and strings included).
    """
    if type(value) is not int or not 1 <= value <= MAX_TTL_SECONDS:
        raise InvalidRequest(field, f"must be an integer between 1 and {MAX_TTL_SECONDS}")
    return value


def _digest_text(digests: dict[str, str]) -> str | None:
    return ";".join(f"{name}={value}" for name, value in sorted(digests.items())) or None


def _replay(
    session: Session,
    state: AccountState,
    key: str,
    request: dict,
    digests: dict[str, str],
    managed_by: str,
) -> HoldResult | None:
    query = select(holds).where(holds.c.account_id == state.id, holds.c.idempotency_key == key)
    hold = session.exec(query).one_or_none()
    if hold is None:
        return None
    differing = [name for name, value in request.items() if getattr(hold, name) != value]
    stored = (part.split("=", 1) for part in (hold.request_digest or "").split(";"))
    stored_digests = dict(pair for pair in stored if len(pair) == 2)
    # Both ways: a request without a prompt does not replay a hold reserved for one.
    named = sorted(set(stored_digests) | set(digests))
    differing += [name for name in named if stored_digests.get(name) != digests.get(name)]
    if hold.managed_by != managed_by:
        differing.append("managedBy")
    if differing:
        raise IdempotencyConflict(key, differing)
    entry = session.exec(
        select(entries).where(entries.c.hold_id == hold.id, entries.c.kind == EntryKind.HOLD)
    ).one()
    available = entry.balance_after - entry.held_after - waiting_after(session, entry.id)
    return _result(hold, entry.balance_after, available, state.user_id, replayed=True)


def _check_cap(session: Session, state: AccountState, now: datetime) -> None:
    """Refuse a new hold past MAX_ACTIVE_HOLDS_PER_USER (the caller holds the account lock).

    Holds that ran out were expired by the locked unit before this runs, so every hold still
    marked active counts; AI runs' holds count like any other.
    """
    cap = get_settings().max_active_holds_per_user
    if cap <= 0:
        return
    query = select(func.count()).where(
        holds.c.account_id == state.id,
        holds.c.status == HoldStatus.ACTIVE,
        holds.c.expires_at > now,
    )
    active = session.exec(query).one()[0]
    if active >= cap:
        raise TooManyHolds(limit=cap, active=active)


def _result(hold: Row, balance: int, available: int, user_id: int, *, replayed: bool) -> HoldResult:
    return HoldResult(
        hold_id=hold.id,
        user_id=user_id,
        feature=hold.feature,
        reserved=hold.amount,
        balance=balance,
        available=available,
        expires_at=hold.expires_at,
        replayed=replayed,
    )


def _create(
    session: Session,
    state: AccountState,
    request: dict,
    key: str,
    now: datetime,
    ttl: int,
    digests: dict[str, str],
    managed_by: str,
):
    amount = request["amount"]
    # The hold pins lots in burn order now; only lots spendable at this moment count.
    plan = take(session, state, amount, now)
    if plan.shortfall:
        raise InsufficientCredits(available=plan.taken, required=amount)
    hold = session.exec(
        insert(holds)
        .values(
            account_id=state.id,
            user_id=state.user_id,
            feature=request["feature"],
            amount=amount,
            status=HoldStatus.ACTIVE,
            idempotency_key=key,
            request_digest=_digest_text(digests),
            managed_by=managed_by,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
        .returning(*holds.c)
    ).one()
    move = Movement(
        kind=EntryKind.HOLD,
        amount=amount,
        key=key,
        source=HOLD_SOURCE,
        source_ref=hold_ref(hold.id),
        held_delta=amount,
        feature=request["feature"],
        hold_id=hold.id,
    )
    entry_id = post(session, state, move, now)
    apply_draws(session, plan.draws, entry_id=entry_id, hold_id=hold.id, moved=plan.moved)
    return _result(hold, state.balance, state.available, state.user_id, replayed=False)


def reserve(
    *,
    session: Session,
    user_id: int,
    amount: int,
    feature: str,
    idempotency_key: str,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: datetime | None = None,
    digests: dict[str, str] | None = None,
    managed_by: str = ManagedBy.API,
) -> HoldResult:
    """Hold `amount` credits for a feature until captured, released or expired.

    A reused key replays the original hold (even if it has resolved since). `digests` names
    request details beyond amount and feature, e.g. `{"prompt": sha256}`: they are kept on
    the hold, and a reused key with other digests is a conflict naming them. `managed_by`
    says who may settle the hold (`ManagedBy.AI_RUN`: only the AI run, not the API client).

    Raises:
        InvalidRequest: For a bad amount, feature, key or ttl; nothing is written.
        InsufficientCredits: When fewer credits are available than asked for.
        TooManyHolds: When the user already has MAX_ACTIVE_HOLDS_PER_USER active holds (a
            reused key still replays).
        IdempotencyConflict: When the key was used for a different amount, feature, digests
            or manager (the fields named).
        UserNotFound: When the user does not exist.
    """
    request = {"amount": validate_amount(amount), "feature": validate_feature(feature)}
    key = validate_key(idempotency_key)
    ttl = validate_ttl(ttl_seconds)
    now = now or utcnow()
    digests = digests or {}

    def body(state: AccountState) -> HoldResult:
        replayed = _replay(session, state, key, request, digests, managed_by)
        if replayed:
            return replayed
        _check_cap(session, state, now)
        return _create(session, state, request, key, now, ttl, digests, managed_by)

    try:
        return locked_unit(session, user_id=user_id, now=now, body=body)
    except IntegrityError:
        # Another request with this key committed between our check and insert: replay it.
        return locked_unit(session, user_id=user_id, now=now, body=body)
