"""Stripe's test card numbers and what happens when each one is charged."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import StripeError, card_error


@dataclass(frozen=True)
class TestCard:
    """A test card and its outcome; `code` is None for cards that succeed.

    `refund` is how refunds of its charges behave (Stripe's "Simulate an asynchronous
    refund" test cards): `succeeded` at once, `pending` until they succeed later, or
    `fails_later` (succeeded at first, failed later).
    """

    number: str
    brand: str
    code: str | None = None
    decline_code: str | None = None
    message: str = ""
    refund: str = "succeeded"

    @property
    def last4(self) -> str:
        """Last four digits, as shown on charges."""
        return self.number[-4:]

    @property
    def succeeds(self) -> bool:
        """True when charging this card succeeds."""
        return self.code is None

    def error(self, **extra: object) -> StripeError:
        """The `card_error` Stripe returns when this card is declined."""
        return card_error(self.message, self.code or "card_declined", self.decline_code, **extra)


_DECLINED = "Your card was declined."
TEST_CARDS = {
    card.number: card
    for card in (
        TestCard("4242424242424242", "visa"),
        TestCard("4000056655665556", "visa"),
        TestCard("5555555555554444", "mastercard"),
        TestCard("4000000000007726", "visa", refund="pending"),
        TestCard("4000000000005126", "visa", refund="fails_later"),
        TestCard("4000000000000002", "visa", "card_declined", "generic_decline", _DECLINED),
        TestCard(
            "4000000000009995",
            "visa",
            "card_declined",
            "insufficient_funds",
            "Your card has insufficient funds.",
        ),
        TestCard("4000000000000069", "visa", "expired_card", None, "Your card has expired."),
    )
}


def normalize(number: str) -> str:
    """Drop the spaces and dashes people type between digit groups."""
    return "".join(ch for ch in str(number) if ch not in " -")


def lookup(number: str) -> TestCard:
    """Return the test card for a number, or raise Stripe's `incorrect_number` error."""
    card = TEST_CARDS.get(normalize(number))
    if card is None:
        raise card_error(
            "Your card number is incorrect. Use a test card such as 4242 4242 4242 4242.",
            "incorrect_number",
            param="number",
        )
    return card
