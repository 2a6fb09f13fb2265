"""Webhook event handlers, one module per event family, dispatched by event type."""

from __future__ import annotations

from collections.abc import Callable

from credits_app.services.billing.handlers import (
    checkout,
    disputes,
    invoices,
    refunds,
    subscriptions,
)
from credits_app.services.billing.handlers.context import EventContext

Handler = Callable[[EventContext], None]

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
    "charge.dispute.created": disputes.created,
    "charge.dispute.closed": disputes.closed,
}
