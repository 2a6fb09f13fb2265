"""Readable descriptions of ledger entries for people: purchase, renewal, admin grant, ..."""

from __future__ import annotations

from credits_app.services.history import EntryView

# Sources written by billing code; anything else falls back to the kind.
_GRANT_SOURCES = {
    "admin": "Admin grant",
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


def describe(entry: EntryView) -> str:
    """Return a short label for what the entry was, e.g. 'Purchase' or 'Spent on summarize'."""
    if entry.kind == "grant" and entry.source == "stripe_invoice":
        return "Plan renewal" if "renewal" in (entry.reason or "").lower() else "Plan credits"
    if entry.kind == "grant" and entry.source == "stripe_dispute":
        return "Dispute won"
    if entry.kind == "grant":
        label = _GRANT_SOURCES.get(entry.source)
        if label is None and "renew" in entry.source:
            label = "Plan renewal"
        return label or "Grant"
    if entry.kind == "clawback":
        return "Dispute reversal" if "dispute" in entry.source else "Refund"
    label = _KIND_LABELS.get(entry.kind, entry.kind.replace("_", " ").capitalize())
    if entry.feature and entry.kind in {"spend", "hold", "capture", "release"}:
        preposition = "on" if entry.kind in {"spend", "capture"} else "for"
        return f"{label} {preposition} {entry.feature}"
    return label
