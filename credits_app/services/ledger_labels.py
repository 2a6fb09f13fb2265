"""Readable descriptions of ledger entries for people: purchase, renewal, admin grant, ..."""

from __future__ import annotations

import re

from credits_app.services.history import EntryView
from credits_app.services.holds.store import HOLD_SOURCE
from credits_app.services.lots.expiry import LOT_SOURCE, ROLLOVER_SOURCE

# Sources written by billing code; anything else falls back to the kind.
_GRANT_SOURCES = {
    "admin": "Admin grant",
    "admin_api": "Grant (API)",
    "cli": "Grant (command line)",
    "api": "Grant (API)",
    "checkout": "Purchase",
    "stripe_checkout": "Purchase",
    "purchase": "Purchase",
    "invoice": "Plan renewal",
    "stripe_invoice": "Plan renewal",
    "renewal": "Plan renewal",
    "subscription": "Plan credits",
    "promotion": "Promotion",
    "signup": "Sign-up credits",
    "stripe_trial": "Trial credits",
    "stripe_dispute": "Dispute won: credits restored",
    "stripe_refund": "Refund failed: credits restored",
}
_KIND_LABELS = {
    "grant": "Grant",
    "spend": "Spent",
    "clawback": "Refund / reversal",
    "adjustment": "Adjustment",
    "hold": "Reserved",
    "capture": "Charged",
    "release": "Reservation released",
    "expire": "Expired",
    "transfer_in": "Transfer in",
    "transfer_out": "Transfer out",
}
# Entries about a lot name it in `source_ref`: `lot:12`, or `lot:12:after:99` for credits a
# hold gave back to lot 12 after it had ended (entry 99), which expire at once.
_LOT_REF = re.compile(r"lot:(\d+)(:after:\d+)?")


def lot_of(entry: EntryView) -> int | None:
    """The lot an expiry or rollover entry is about, from its `source_ref` (else None)."""
    match = _LOT_REF.fullmatch(entry.source_ref or "")
    return int(match[1]) if match else None


def _expiry(entry: EntryView) -> str:
    """'Credits expired (lot 12)' for a lot; 'Reservation expired for chat' for a hold."""
    lot = lot_of(entry) if entry.source == LOT_SOURCE else None
    if lot is not None:
        return f"Credits expired (lot {lot})"
    if entry.source == HOLD_SOURCE:
        return (
            f"Reservation expired for {entry.feature}" if entry.feature else "Reservation expired"
        )
    return "Expired"


def _grant(entry: EntryView) -> str:
    if entry.source == "stripe_invoice":
        return "Plan renewal" if "renewal" in (entry.reason or "").lower() else "Plan credits"
    if entry.source == ROLLOVER_SOURCE:
        lot = lot_of(entry)
        return f"Rolled over from lot {lot}" if lot is not None else "Rolled over"
    label = _GRANT_SOURCES.get(entry.source)
    if label is None and "renew" in entry.source:
        label = "Plan renewal"
    return label or "Grant"


def describe(entry: EntryView) -> str:
    """Return a short label for what the entry was, e.g. 'Purchase' or 'Spent on summarize'."""
    if entry.kind == "grant":
        return _grant(entry)
    if entry.kind == "expire":
        return _expiry(entry)
    if entry.kind == "clawback":
        if entry.source == "reconcile":
            return "Correction"
        return "Dispute reversal" if "dispute" in entry.source else "Refund"
    label = _KIND_LABELS.get(entry.kind, entry.kind.replace("_", " ").capitalize())
    if entry.feature and entry.kind in {"spend", "hold", "capture", "release"}:
        preposition = "on" if entry.kind in {"spend", "capture"} else "for"
        return f"{label} {preposition} {entry.feature}"
    return label
