"""Reconciliation: prove that credits follow money by comparing Stripe with our records.

`reconcile(since=...)` lists what Stripe has for the window (checkout sessions, invoices,
payments, refunds, disputes) and reports every drift; with `repair=True` it replays what
can be replayed through the webhook's exactly-once path and checks again. Drift an admin
decided about (`decisions.py`) is still reported, with its decision, but is no longer open.
See docs/reconcile.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from credits_app.db import get_engine, per_statement_session
from credits_app.models import utcnow
from credits_app.services.billing.reconcile.decisions import Decision, decisions_for
from credits_app.services.billing.reconcile.detect import find_drift
from credits_app.services.billing.reconcile.drift import Drift, DriftKind
from credits_app.services.billing.reconcile.repair import RepairResult, repair_all
from credits_app.settings import get_settings

__all__ = [
    "Decision",
    "Drift",
    "DriftKind",
    "ReconcileReport",
    "RepairResult",
    "parse_window",
    "reconcile",
]

# A repair can reveal more (a refund of a purchase that was missing): check again, a few times.
REPAIR_ROUNDS = 3
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
MAX_WINDOW = timedelta(days=3660)


def parse_window(text: str) -> timedelta:
    """Read a window such as `30d`, `12h`, `90m` or `2w`.

    Raises:
        ValueError: With a message for the operator when it is not one.
    """
    found = re.fullmatch(r"\s*(\d{1,7})\s*([wdhm])\s*", text or "")
    if not found:
        raise ValueError(f"not a window: {text!r} (use e.g. 30d, 12h, 90m or 2w)")
    window = timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    if not timedelta(0) < window <= MAX_WINDOW:
        raise ValueError(f"the window must be more than 0 and at most 3660d, not {text!r}")
    return window


@dataclass
class ReconcileReport:
    """What one reconciliation found, and what its repairs did.

    Attributes:
        since: The window's start.
        drift: Every drift found (also those a repair then fixed), one per kind and object.
        checked: How many objects and rows were compared, by kind.
        repairs: The repair of each drift that was repaired, by (kind, object).
        remaining: With repair: the drift a last check still finds; None without repair.
        decisions: Admins' decisions about drift found here, by (kind, object).
    """

    since: datetime
    drift: list[Drift]
    checked: dict[str, int]
    repairs: dict[tuple[str, str], RepairResult] = field(default_factory=dict)
    remaining: list[Drift] | None = None
    decisions: dict[tuple[str, str], Decision] = field(default_factory=dict)

    @property
    def open(self) -> list[Drift]:
        """The drift still there (after the repairs, when repairing) that no admin decided."""
        current = self.drift if self.remaining is None else self.remaining
        return [x for x in current if x.key not in self.decisions]

    @property
    def ok(self) -> bool:
        """True when nothing drifts, or only what admins decided about (e.g. accepted)."""
        return not self.open

    def as_json(self) -> dict[str, Any]:
        """The report as `reconcile --json` prints it."""
        drift = []
        for item in self.drift:
            shown = item.as_json()
            if item.key in self.repairs:
                shown["repair"] = self.repairs[item.key].as_json()
            if item.key in self.decisions:
                shown["decision"] = self.decisions[item.key].as_json()
            drift.append(shown)
        data: dict[str, Any] = {
            "since": self.since.isoformat(),
            "ok": self.ok,
            "drift": drift,
            "checked": self.checked,
        }
        if self.remaining is not None:
            data["remaining"] = [item.as_json() for item in self.remaining]
        return data


def reconcile(*, since: datetime | None = None, repair: bool = False) -> ReconcileReport:
    """Compare Stripe with our records since `since`; with `repair`, repair and check again.

    `since` defaults to `RECONCILE_WINDOW_DAYS` (3) days ago.

    Raises:
        Unavailable: When Stripe cannot be reached.
    """
    since = since or utcnow() - timedelta(days=get_settings().reconcile_window_days)
    findings = find_drift(since)
    report = ReconcileReport(since, list(findings.drift), findings.checked)
    if not repair:
        return with_decisions(report)
    current = findings.drift
    for _ in range(REPAIR_ROUNDS):
        todo = [x for x in current if x.repairable and x.key not in report.repairs]
        if not todo:
            break
        for drift, result in repair_all(todo, since):
            report.repairs[drift.key] = result
        findings = find_drift(since)
        current = findings.drift
        known = {x.key for x in report.drift}
        report.drift += [x for x in current if x.key not in known]
    report.checked = findings.checked
    report.remaining = list(current)
    return with_decisions(report)


def with_decisions(report: ReconcileReport) -> ReconcileReport:
    """Attach the admins' decisions about the report's drift (read statement by statement)."""
    if not report.drift:
        return report
    with per_statement_session(get_engine()) as db:
        report.decisions = decisions_for(db, (x.key for x in report.drift))
    return report
