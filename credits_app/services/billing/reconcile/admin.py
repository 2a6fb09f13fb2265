"""What the admin page `/admin/reconcile` runs: the CLI's own reconcile and repair, for admins.

Each call checks that the acting user is an admin (in the database, every time) before it
talks to Stripe, and then runs exactly what `python -m credits_app reconcile [--repair]`
runs: `reconcile()` and `repair_all()`, whose repairs go through the webhook's exactly-once
path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from credits_app.db import read_session, session_scope
from credits_app.models import utcnow
from credits_app.services.billing.reconcile import ReconcileReport, reconcile
from credits_app.services.billing.reconcile.decisions import (
    CLAWBACK,
    Decision,
    decide,
    require_reconcile_admin,
)
from credits_app.services.billing.reconcile.detect import find_drift_for
from credits_app.services.billing.reconcile.drift import Drift
from credits_app.services.billing.reconcile.repair import RepairResult, repair_all
from credits_app.services.errors import InvalidRequest
from credits_app.settings import get_settings


@dataclass(frozen=True)
class OneRepair:
    """One drift repaired from the page, and what the comparison finds for its object now."""

    drift: Drift
    result: RepairResult
    still: list[Drift]

    @property
    def resolved(self) -> bool:
        """Whether this drift (its kind and object) is gone."""
        return all(x.key != self.drift.key for x in self.still)


def _check_admin(admin_user_id: int) -> None:
    with read_session() as session:
        require_reconcile_admin(session=session, user_id=admin_user_id)


def run_as_admin(*, admin_user_id: int, since: datetime) -> ReconcileReport:
    """Reconcile the window, report only, as `reconcile --since` does.

    Raises:
        Forbidden: When the acting user is not an admin.
        Unavailable: When Stripe cannot be reached.
    """
    _check_admin(admin_user_id)
    return reconcile(since=since)


def repair_as_admin(*, admin_user_id: int, drift: Drift, since: datetime) -> OneRepair:
    """Repair one drift through the CLI's repair path, then compare its object again.

    Raises:
        Forbidden: When the acting user is not an admin.
        InvalidRequest: When the drift cannot be repaired (it waits for a decision).
        Unavailable: When Stripe cannot be reached.
    """
    _check_admin(admin_user_id)
    if not drift.repairable:
        raise InvalidRequest("drift", f"{drift.kind.value} {drift.object} cannot be repaired")
    [(_, result)] = repair_all([drift], since)
    return OneRepair(drift, result, find_drift_for([drift.object], since))


def repair_all_as_admin(*, admin_user_id: int, since: datetime) -> ReconcileReport:
    """Repair everything repairable and check again, as `reconcile --repair` does.

    Raises:
        Forbidden: When the acting user is not an admin.
        Unavailable: When Stripe cannot be reached.
    """
    _check_admin(admin_user_id)
    return reconcile(since=since, repair=True)


def decide_as_admin(
    *,
    admin_user_id: int,
    drift: Drift,
    decision: str,
    reason: object,
    since: datetime | None = None,
) -> Decision:
    """Record an admin's decision about a drift (see `decisions.decide`).

    A clawback acts on a run that may be minutes old: its object is compared again first
    (over the window from `since`), and the clawback goes ahead only when the same drift
    with the same excess is still there.

    Raises:
        Forbidden: When the acting user is not an admin.
        InvalidRequest: Without a reason, for a decision the drift does not allow, or for a
            clawback whose drift changed or went away since the run.
        Unavailable: When Stripe cannot be reached (for a clawback's check).
    """
    _check_admin(admin_user_id)
    if decision == CLAWBACK:
        since = since or utcnow() - timedelta(days=get_settings().reconcile_window_days)
        now = [x for x in find_drift_for([drift.object], since) if x.key == drift.key]
        if not now or now[0].excess != drift.excess:
            raise InvalidRequest(
                "decision", f"{drift.object} no longer drifts as it did: run again first"
            )
    with session_scope() as session:
        return decide(
            session=session,
            admin_user_id=admin_user_id,
            drift=drift,
            decision=decision,
            reason=reason,
        )
