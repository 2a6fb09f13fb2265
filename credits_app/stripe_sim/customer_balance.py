"""The customer credit balance: balance transactions, and invoices paid from it first."""

from __future__ import annotations

from typing import Any

from .errors import invalid
from .ids import new_id
from .params import Params, as_int, required, string_map, text
from .simulator import Simulator

Obj = dict[str, Any]


def create_balance_transaction(sim: Simulator, customer_id: str, params: Params) -> Obj:
    """`POST /v1/customers/{id}/balance_transactions`: a manual `adjustment`.

    A negative `amount` is a credit, as in Stripe; it pays later invoices first.
    """
    customer = sim.store.get("customer", customer_id)
    amount = as_int(required(params, "amount"), "amount")
    currency = str(required(params, "currency")).lower()
    if customer["currency"] and currency != customer["currency"]:
        raise invalid(
            f"The customer's balance is in {customer['currency']}, not {currency}.",
            param="currency",
        )
    return adjust_balance(
        sim,
        customer,
        amount,
        "adjustment",
        currency,
        description=text(params.get("description"), "description"),
        metadata=string_map(params.get("metadata")),
    )


def apply_balance(sim: Simulator, invoice: Obj) -> None:
    """Apply the customer's balance to an invoice being finalized.

    Follows Stripe's customer balance: a credit pays the invoice first (`amount_due` is
    what is left to collect), and a negative total becomes credit for later invoices.
    """
    customer = sim.store.get("customer", invoice["customer"])
    start = customer["balance"]
    combined = invoice["total"] + start
    invoice.update(
        starting_balance=start,
        amount_due=max(combined, 0),
        amount_remaining=max(combined, 0),
        ending_balance=min(combined, 0),
    )
    change = invoice["ending_balance"] - start
    if change:
        adjust_balance(
            sim, customer, change, "applied_to_invoice", invoice["currency"], invoice=invoice["id"]
        )


def adjust_balance(
    sim: Simulator, customer: Obj, amount: int, kind: str, currency: str, **fields: Any
) -> Obj:
    """Record a `customer_balance_transaction` and update `balance` (`customer.updated`).

    Args:
        sim: The simulator.
        customer: The stored customer.
        amount: Added to the balance (negative: credit for the customer).
        kind: The transaction `type`, e.g. `adjustment` or `applied_to_invoice`.
        currency: The balance's currency; the customer takes it on first use.
        **fields: `invoice`, `description`, `metadata`.
    """
    previous: Obj = {"balance": customer["balance"]}
    if customer["currency"] is None:
        previous["currency"] = None
        customer["currency"] = currency
    customer["balance"] += amount
    transaction = {
        "id": new_id("cbtxn_"),
        "object": "customer_balance_transaction",
        "amount": amount,
        "checkout_session": None,
        "created": sim.store.now(),
        "credit_note": None,
        "currency": currency,
        "customer": customer["id"],
        "customer_account": None,
        "description": fields.get("description"),
        "ending_balance": customer["balance"],
        "invoice": fields.get("invoice"),
        "livemode": False,
        "metadata": fields.get("metadata") or {},
        "type": kind,
    }
    sim.events.emit("customer.updated", customer, previous)
    return sim.store.put(transaction)
