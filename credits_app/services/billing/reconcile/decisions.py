"""Admins' decisions about drift that a repair cannot fix: accept it, or claw back the excess.

A decision is about one drift, its kind and Stripe object, and is made once: the same item
decided twice (two tabs, a double click) finds the first decision. An accepted drift is
still reported, with its decision, but no longer counts as open: not in the page's summary,
not in the schedule's gauge, not in `reconcile`'s exit status. A clawback takes exactly the
drift's `excess` back through the ledger's own `post_clawback` (from the lots the object
funded first; what was spent becomes debt), in the same transaction as the decision row, so
there is never a decision without its clawback or the other way round.

When the drift later disappears (the object was paid after all, a hand edit was undone),
the decision stays as history; nothing is shown as open for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from credits_app.models import ReconcileDecision, User
from credits_app.services import balance_events
from credits_app.services.billing.reconcile.drift import Drift, DriftKind
from credits_app.services.billing.reconcile.records import chunks
from credits_app.services.errors import InvalidRequest
from credits_app.services.ledger import post_clawback
from credits_app.services.users import require_admin_to
from credits_app.services.validation import validate_reason

ACCEPT = "accept"
CLAWBACK = "clawback"
DECISIONS = (ACCEPT, CLAWBACK)
# The ledger source of a clawback decided here (its source_ref is the Stripe object).
SOURCE = "reconcile"
# Kinds whose excess credits an admin may take back: credits no money paid for.
CLAWBACK_KINDS = (
    DriftKind.GRANTED_WITHOUT_PAYMENT,
    DriftKind.DUPLICATE_GRANT,
    DriftKind.AMOUNT_MISMATCH,
)


@dataclass(frozen=True)
class Decision:
    """One admin's decision about one drift, as recorded."""

    kind: str
    object: str
    decision: str
    reason: str
    admin_id: int
    admin_email: str | None
    user_id: int | None
    detail: str
    credits: int | None
    entry_id: int | None
    at: datetime

    @property
    def key(self) -> tuple[str, str]:
        """The drift it is about: (kind, Stripe object)."""
        return self.kind, self.object

    def as_json(self) -> dict[str, Any]:
        """The decision as `reconcile --json` shows it next to its drift."""
        data: dict[str, Any] = {
            "decision": self.decision,
            "reason": self.reason,
            "admin": {"id": self.admin_id, "email": self.admin_email},
            "at": self.at.isoformat(),
        }
        if self.decision == CLAWBACK:
            data |= {"credits": self.credits, "entryId": self.entry_id}
        return data


def choices(drift: Drift) -> tuple[str, ...]:
    """What an admin may decide about a drift.

    Nothing for a repairable one (repair it); `accept`; and `clawback` where the excess
    credits and their user are known.
    """
    if drift.repairable:
        return ()
    if drift.kind in CLAWBACK_KINDS and drift.excess > 0 and drift.user_id is not None:
        return (ACCEPT, CLAWBACK)
    return (ACCEPT,)


def require_reconcile_admin(*, session: Session, user_id: int) -> None:
    """Raise `Forbidden` unless the user exists and is an admin (`User.is_admin`)."""
    require_admin_to(session=session, user_id=user_id, action="reconcile")


def _decision(row: ReconcileDecision, admin_email: str | None) -> Decision:
    return Decision(
        kind=row.kind,
        object=row.object_id,
        decision=row.decision,
        reason=row.reason,
        admin_id=row.admin_user_id,
        admin_email=admin_email,
        user_id=row.user_id,
        detail=row.detail,
        credits=row.credits,
        entry_id=row.entry_id,
        at=row.created_at,
    )


def _read(db: Session, query) -> list[Decision]:
    query = query.add_columns(User.email).join(User, User.id == ReconcileDecision.admin_user_id)
    return [_decision(row, email) for row, email in db.execute(query)]


def decisions_for(db: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Decision]:
    """The decisions about these drifts (kind, object), by drift."""
    wanted = set(keys)
    found: dict[tuple[str, str], Decision] = {}
    for chunk in chunks(obj for _, obj in wanted):
        query = select(ReconcileDecision).where(ReconcileDecision.object_id.in_(chunk))
        found.update((d.key, d) for d in _read(db, query) if d.key in wanted)
    return found


def recent_decisions(db: Session, limit: int = 50) -> list[Decision]:
    """The newest decisions, whether their drift is still there or not."""
    query = select(ReconcileDecision).order_by(ReconcileDecision.id.desc()).limit(limit)
    return _read(db, query)


def _existing(session: Session, drift: Drift) -> Decision | None:
    return decisions_for(session, [drift.key]).get(drift.key)


def decide(
    *, session: Session, admin_user_id: int, drift: Drift, decision: str, reason: object
) -> Decision:
    """Record an admin's decision about a drift once; a clawback takes its excess back.

    Deciding the same drift again returns the first decision and writes nothing.

    Raises:
        Forbidden: When the acting user is not an admin.
        InvalidRequest: Without a reason (field `reason`), or for a decision the drift does
            not allow (field `decision`); nothing is written.
    """
    require_reconcile_admin(session=session, user_id=admin_user_id)
    reason = validate_reason(reason)
    existing = _existing(session, drift)
    session.rollback()
    if existing is not None:
        return existing
    allowed = choices(drift)
    if not allowed:
        raise InvalidRequest("decision", "this drift can be repaired: repair it instead")
    if decision not in allowed:
        raise InvalidRequest("decision", f"must be {' or '.join(allowed)} for this drift")
    row = ReconcileDecision(
        kind=drift.kind.value,
        object_id=drift.object,
        decision=decision,
        reason=reason,
        admin_user_id=admin_user_id,
        user_id=drift.user_id,
        detail=drift.detail,
    )
    result = None
    try:
        session.add(row)
        session.flush()
        if decision == CLAWBACK and drift.user_id is not None:
            result = post_clawback(
                session,
                user_id=drift.user_id,
                amount=drift.excess,
                reason=f"Correction after reconciliation: {reason}"[:255],
                idempotency_key=f"reconcile:{drift.kind.value}:{drift.object}"[:255],
                source=SOURCE,
                source_ref=drift.object,
                funded_by=drift.object,
            )
            row.credits, row.entry_id = drift.excess, result.entry_id
            session.add(row)
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = _existing(session, drift)
        session.rollback()
        if existing is not None:
            return existing  # another admin (or tab) decided it at the same moment
        raise InvalidRequest(
            "decision", f"the credits of {drift.object} were clawed back already"
        ) from None
    if result is not None:
        balance_events.publish(
            balance_events.BalanceChanged(result.user_id, result.balance, result.available)
        )
    admin = session.get(User, admin_user_id)
    return _decision(row, admin.email if admin else None)
