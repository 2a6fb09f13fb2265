"""Webhook event handlers, one module per event family, dispatched by event type.

docs/billing.md has the table of every event and what it does to credits.
"""

from __future__ import annotations

from credits_app.services.billing.handlers import (
    checkout,
    disputes,
    invoices,
    refunds,
    subscriptions,
)
from credits_app.services.billing.handlers.context import EventContext, Handler, Lookup

__all__ = ["HANDLERS", "EventContext", "Handler", "Lookup"]

HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": checkout.completed,
    "checkout.session.async_payment_succeeded": checkout.async_payment_succeeded,
    "checkout.session.async_payment_failed": checkout.async_payment_failed,
    "invoice.paid": invoices.paid,
    "invoice.payment_failed": invoices.payment_failed,
    "customer.subscription.created": subscriptions.changed,
    "customer.subscription.updated": subscriptions.changed,
    "customer.subscription.deleted": subscriptions.changed,
    "charge.refunded": refunds.charge_refunded,
    "refund.created": refunds.refund_changed,
    "refund.updated": refunds.refund_changed,
    "refund.failed": refunds.refund_changed,
    "charge.refund.updated": refunds.refund_changed,
    "charge.dispute.created": disputes.dispute_changed,
    "charge.dispute.updated": disputes.dispute_changed,
    "charge.dispute.funds_withdrawn": disputes.dispute_changed,
    "charge.dispute.funds_reinstated": disputes.dispute_changed,
    "charge.dispute.closed": disputes.dispute_changed,
}
