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
from credits_app.models.users import AuthSession, EmailToken, User

__all__ = [
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
    "utcnow",
]
