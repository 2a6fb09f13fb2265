"""Check every ledger invariant over the whole database, as `python -m credits_app check` does."""

from __future__ import annotations

from sqlalchemy import and_, func, not_, or_, select, true
from sqlmodel import Session

from credits_app.models import CreditHold, EntryKind, HoldStatus
from credits_app.services.accounts import accounts
from credits_app.services.billing.money_checks import check_money
from credits_app.services.holds.checks import holds_match_entries
from credits_app.services.journal import entries, usage
from credits_app.services.lots.checks import check_lots
from credits_app.services.rollups import check_rollups

holds = CreditHold.__table__

# How each kind of entry may move the balance, held credits and debt: (delta, held, debt)
# signs allowed, as "+" (>= 0), "-" (<= 0) or "0".
KIND_SIGNS = {
    EntryKind.GRANT: ("+", "0", "-"),
    EntryKind.SPEND: ("-", "0", "0"),
    EntryKind.CLAWBACK: ("-", "0", "+"),
    EntryKind.ADJUSTMENT: ("*", "0", "*"),
    EntryKind.HOLD: ("0", "+", "0"),
    EntryKind.CAPTURE: ("-", "-", "0"),
    EntryKind.RELEASE: ("0", "-", "0"),
    EntryKind.EXPIRE: ("-", "-", "0"),  # a hold's time ran out (held) or a lot's (balance)
    EntryKind.TRANSFER_IN: ("+", "0", "0"),
    EntryKind.TRANSFER_OUT: ("-", "0", "0"),
}


def _sign_ok(column, sign: str):
    return {"+": column >= 0, "-": column <= 0, "0": column == 0, "*": true()}[sign]


def _account_totals(session: Session) -> list[str]:
    sums = (
        select(
            entries.c.account_id,
            func.sum(entries.c.delta).label("balance"),
            func.sum(entries.c.held_delta).label("held"),
            func.sum(entries.c.debt_delta).label("debt"),
        )
        .group_by(entries.c.account_id)
        .subquery()
    )
    query = select(accounts, sums.c.balance, sums.c.held, sums.c.debt).outerjoin(
        sums, sums.c.account_id == accounts.c.id
    )
    problems = []
    for row in session.exec(query).mappings():
        expected = {k: int(row[sums.c[k]] or 0) for k in ("balance", "held", "debt")}
        actual = {k: row[accounts.c[k]] for k in ("balance", "held", "debt")}
        for name in ("balance", "held", "debt"):
            if expected[name] != actual[name]:
                problems.append(
                    f"account {row[accounts.c.id]} (user {row[accounts.c.user_id]}): {name} row "
                    f"is {actual[name]} but its entries sum to {expected[name]}"
                )
        if not 0 <= actual["held"] <= actual["balance"] or actual["debt"] < 0:
            problems.append(f"account {row[accounts.c.id]}: negative or over-held balance {actual}")
    return problems


def _running_balances(session: Session) -> list[str]:
    window = {"partition_by": entries.c.account_id, "order_by": entries.c.id}
    running = select(
        entries.c.id,
        entries.c.account_id,
        entries.c.balance_after,
        entries.c.held_after,
        entries.c.debt_after,
        func.sum(entries.c.delta).over(**window).label("balance"),
        func.sum(entries.c.held_delta).over(**window).label("held"),
        func.sum(entries.c.debt_delta).over(**window).label("debt"),
    ).subquery()
    query = select(running).where(
        or_(
            running.c.balance != running.c.balance_after,
            running.c.held != running.c.held_after,
            running.c.debt != running.c.debt_after,
        )
    )
    return [
        f"entry {r.id} (account {r.account_id}): recorded after-values "
        f"({r.balance_after}, {r.held_after}, {r.debt_after}) differ from the running sums "
        f"({r.balance}, {r.held}, {r.debt})"
        for r in session.exec(query.limit(100))
    ]


def _entry_signs(session: Session) -> list[str]:
    problems = []
    for kind, signs in KIND_SIGNS.items():
        columns = (entries.c.delta, entries.c.held_delta, entries.c.debt_delta)
        ok = and_(*(_sign_ok(c, s) for c, s in zip(columns, signs, strict=True)))
        query = select(entries.c.id).where(entries.c.kind == kind, not_(ok)).limit(100)
        problems += [
            f"entry {i}: a {kind} entry moves credits the wrong way"
            for i in session.exec(query).scalars()
        ]
    unknown = select(entries.c.id, entries.c.kind).where(entries.c.kind.not_in(list(KIND_SIGNS)))
    problems += [f"entry {r.id}: unknown kind {r.kind!r}" for r in session.exec(unknown.limit(100))]
    return problems


def _usage_matches_spends(session: Session) -> list[str]:
    spends = (
        select(entries.c.id)
        .outerjoin(usage, usage.c.entry_id == entries.c.id)
        .where(entries.c.kind.in_([EntryKind.SPEND, EntryKind.CAPTURE]), usage.c.id.is_(None))
    )
    missing = [
        f"spend entry {i} has no usage event" for i in session.exec(spends.limit(100)).scalars()
    ]
    mismatched = (
        select(usage.c.id)
        .join(entries, usage.c.entry_id == entries.c.id)
        .where(or_(usage.c.credits != -entries.c.delta, usage.c.feature != entries.c.feature))
    )
    return missing + [
        f"usage event {i} disagrees with its ledger entry"
        for i in session.exec(mismatched.limit(100)).scalars()
    ]


def _holds_match_held(session: Session) -> list[str]:
    active = (
        select(holds.c.account_id, func.sum(holds.c.amount).label("held"))
        .where(holds.c.status == HoldStatus.ACTIVE)
        .group_by(holds.c.account_id)
        .subquery()
    )
    query = (
        select(accounts.c.id, accounts.c.held, active.c.held.label("active"))
        .outerjoin(active, active.c.account_id == accounts.c.id)
        .where(accounts.c.held != func.coalesce(active.c.held, 0))
    )
    return [
        f"account {r.id}: held is {r.held} but active holds total {int(r.active or 0)}"
        for r in session.exec(query.limit(100))
    ]


def check_ledger(*, session: Session) -> list[str]:
    """Return a line for every invariant violation found; an empty list means all is well.

    Checked: the balance row equals the sum of its entries (balance, held, debt); every
    entry's after-values equal the running sums; no balance, held or debt is negative and
    held never exceeds the balance; each kind moves credits only its own way; each spend has
    exactly one matching usage event; held equals the total of active holds; each hold has
    one opening entry and, once resolved, one entry of its outcome, whose sums agree with
    the hold's amount and captured credits. Lots (`check_lots`): each lot's remaining
    replays from its allocations, the balance net of holds is what the lots hold, no lot
    was drawn outside its window, and each hold pins its amount. Credits follow money
    (`check_money`): each Stripe purchase granted exactly what its lines buy at their
    prices' rates, no Stripe object granted twice, and refunds and disputes never took
    back more than it bought. The daily rollups of usage and of the ledger
    (`check_rollups`) equal a fresh aggregation of the rows they sum.
    """
    return (
        _account_totals(session)
        + _running_balances(session)
        + _entry_signs(session)
        + _usage_matches_spends(session)
        + _holds_match_held(session)
        + holds_match_entries(session)
        + check_lots(session)
        + check_money(session)
        + check_rollups(session)
    )
