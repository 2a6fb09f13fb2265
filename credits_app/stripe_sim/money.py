"""Human-readable amounts for messages and hosted pages."""

from __future__ import annotations

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}


def format_amount(amount: int, currency: str) -> str:
    """Format an amount in minor units, e.g. `format_amount(500, "usd") == "$5.00"`."""
    sign = "-" if amount < 0 else ""
    symbol = _SYMBOLS.get(currency.lower())
    value = f"{abs(amount) / 100:,.2f}"
    return f"{sign}{symbol}{value}" if symbol else f"{sign}{value} {currency.upper()}"
