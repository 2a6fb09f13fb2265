"""Convert money to credits and back, always rounding in favour of the money."""

from __future__ import annotations


def line_credits(amount: int, unit_amount: int | None, included_credits: int | None) -> int:
    """The credits a billed amount buys at its price's rate (`included / unit_amount`).

    Floor division rounds a charge down and a credit (a negative amount, e.g. unused time
    after a plan change) up in size, so neither way does rounding give the user a credit
    that no money paid for. A price without a positive amount or credits buys nothing.

    Args:
        amount: The line's amount in the currency's smallest unit; negative for a credit.
        unit_amount: The price's amount for one unit.
        included_credits: The credits one unit of the price includes.

    Returns:
        The signed number of credits.
    """
    if not unit_amount or unit_amount <= 0 or not included_credits or included_credits <= 0:
        return 0
    return (amount * included_credits) // unit_amount


def clawback_share(credits: int, part: int, whole: int) -> int:
    """The credits that `part` of a payment of `whole` paid for, rounded up, at most `credits`.

    Used for refunds and disputes: taking back a partial payment takes back at least its
    share of the credits.
    """
    if credits <= 0 or part <= 0 or whole <= 0:
        return 0
    return min(credits, -((-credits * part) // whole))
