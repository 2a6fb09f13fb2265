"""Ledger invariants about holds, run by `check_ledger` (and `python -m credits_app check`)."""

from __future__ import annotations

from sqlalchemy import and_, case, func, literal, not_, or_, select
from sqlmodel import Session

from credits_app.models import EntryKind, HoldStatus
from credits_app.services.holds.store import HOLD_SOURCE, holds
from credits_app.services.journal import entries

HOLD_KINDS = (EntryKind.HOLD, EntryKind.CAPTURE, EntryKind.RELEASE, EntryKind.EXPIRE)
RESOLVING = {
    HoldStatus.CAPTURED: EntryKind.CAPTURE,
    HoldStatus.RELEASED: EntryKind.RELEASE,
    HoldStatus.EXPIRED: EntryKind.EXPIRE,
}


def _hold_entry_sums():
    is_kind = lambda *kinds: case((entries.c.kind.in_(kinds), 1), else_=0)  # noqa: E731
    return (
        select(
            entries.c.hold_id,
            func.sum(is_kind(EntryKind.HOLD)).label("opened"),
            func.sum(is_kind(*RESOLVING.values())).label("resolved"),
            func.max(case((entries.c.kind != EntryKind.HOLD, entries.c.kind))).label("how"),
            func.sum(entries.c.held_delta).label("held"),
            func.sum(entries.c.delta).label("spent"),
        )
        .where(entries.c.hold_id.is_not(None))
        .group_by(entries.c.hold_id)
        .subquery()
    )


def holds_match_entries(session: Session) -> list[str]:
    """List holds whose ledger entries disagree with their status or amounts, and orphans."""
    sums = _hold_entry_sums()
    active = holds.c.status == HoldStatus.ACTIVE
    expected_kind = case(
        *((holds.c.status == status, literal(kind.value)) for status, kind in RESOLVING.items()),
        else_=literal("none"),
    )
    bad = or_(
        holds.c.status.not_in([HoldStatus.ACTIVE, *RESOLVING]),
        func.coalesce(sums.c.opened, 0) != 1,
        func.coalesce(sums.c.resolved, 0) != case((active, 0), else_=1),
        and_(not_(active), func.coalesce(sums.c.how, "none") != expected_kind),
        func.coalesce(sums.c.held, 0) != case((active, holds.c.amount), else_=0),
        func.coalesce(sums.c.spent, 0) != -func.coalesce(holds.c.captured, 0),
        func.coalesce(holds.c.captured, 0) > holds.c.amount,
    )
    query = select(holds.c.id, holds.c.status).outerjoin(sums, sums.c.hold_id == holds.c.id)
    problems = [
        f"hold {r.id} ({r.status}): its ledger entries do not match its status and amounts"
        for r in session.exec(query.where(bad).limit(100))
    ]
    # Expire entries also end lots (source "lot"); only a hold's own entries must name it.
    orphans = select(entries.c.id, entries.c.kind).where(
        entries.c.kind.in_(HOLD_KINDS),
        entries.c.hold_id.is_(None),
        or_(entries.c.kind != EntryKind.EXPIRE, entries.c.source == HOLD_SOURCE),
    )
    return problems + [
        f"entry {r.id}: a {r.kind} entry names no hold" for r in session.exec(orphans.limit(100))
    ]
