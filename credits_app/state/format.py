"""Plain formatting for the UI: money, credits, dates."""

from __future__ import annotations

from datetime import UTC, datetime

SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}


def money(cents: int, currency: str) -> str:
    """Return e.g. '$9.00' or '12.00 CHF'."""
    symbol = SYMBOLS.get(currency.lower())
    amount = f"{cents / 100:,.2f}"
    return f"{symbol}{amount}" if symbol else f"{amount} {currency.upper()}"


def per_credit(cents: int, credits: int, currency: str) -> str:
    """Return the price of one credit, e.g. '0.9¢' or '$0.0090'."""
    if credits <= 0:
        return "—"
    each = cents / credits
    if currency.lower() in ("usd", "eur") and each < 100:
        return f"{each:.2g}¢" if each < 10 else f"{each:.1f}¢"
    return money(round(each), currency)


def when(moment: datetime | None) -> str:
    """Return '2026-11-25 14:03 UTC' (or '—')."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(moment: datetime | None) -> str:
    """Return 'Dec 25, 2026' (or '—')."""
    return moment.strftime("%b %d, %Y") if moment else "—"


def signed(delta: int) -> str:
    """Return '+500' or '-3'."""
    return f"+{delta:,}" if delta > 0 else f"{delta:,}"
