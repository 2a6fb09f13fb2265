"""SQLModel tables; importing this package registers every table on the metadata."""

from credits_app.models.analytics import LedgerDaily, UsageDaily
from credits_app.models.base import utcnow
from credits_app.models.billing import (
    Customer,
    Price,
    Product,
    StripeDispute,
    StripeEvent,
    StripePayment,
    StripePurchase,
    StripePurchaseLine,
    StripeRefund,
    Subscription,
)
from credits_app.models.ledger import (
    CreditAccount,
    CreditHold,
    EntryKind,
    HoldStatus,
    LedgerEntry,
    UsageEvent,
)
from credits_app.models.lots import CreditLot, LotAllocation, LotCategory, LotSource
from credits_app.models.reconcile import ReconcileDecision
from credits_app.models.users import AuthSession, EmailToken, User
from credits_app.models.webhooks import DELIVERY_OUTCOMES, WebhookDelivery

__all__ = [
    "DELIVERY_OUTCOMES",
    "AuthSession",
    "CreditAccount",
    "CreditHold",
    "CreditLot",
    "Customer",
    "EmailToken",
    "EntryKind",
    "HoldStatus",
    "LedgerDaily",
    "LedgerEntry",
    "LotAllocation",
    "LotCategory",
    "LotSource",
    "Price",
    "Product",
    "ReconcileDecision",
    "StripeDispute",
    "StripeEvent",
    "StripePayment",
    "StripePurchase",
    "StripePurchaseLine",
    "StripeRefund",
    "Subscription",
    "UsageDaily",
    "UsageEvent",
    "User",
    "WebhookDelivery",
    "utcnow",
]
