"""The webhook event log: every verified Stripe delivery, its outcome, and re-applying failures.

- `record`: the endpoint logs each delivery after processing it, in a transaction of its
  own, and never fails because of the log (`log_delivery`).
- `listing` / `filters`: admins read it filtered, newest first, a bounded page at a time.
- `reapply`: an admin runs a failed delivery's verified event through `process_event` again,
  so exactly-once holds.
- `retention`: rows older than WEBHOOK_LOG_RETENTION_DAYS are pruned; `stripe_event` never is.

Deliveries with a bad signature are not logged: anyone can send them, as many as they like.
They are counted (`credits_webhook_deliveries_total{outcome="rejected"}`) and logged as lines.
"""

from credits_app.services.billing.webhook_log.filters import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    DeliveryFilters,
    parse_filters,
)
from credits_app.services.billing.webhook_log.listing import (
    DeliveryPage,
    DeliveryRow,
    list_deliveries,
)
from credits_app.services.billing.webhook_log.reapply import ReapplyResult, reapply
from credits_app.services.billing.webhook_log.record import (
    failure_text,
    log_delivery,
    record_delivery,
)
from credits_app.services.billing.webhook_log.retention import (
    prune_deliveries,
    prune_expired_deliveries,
    prune_when_due,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "DeliveryFilters",
    "DeliveryPage",
    "DeliveryRow",
    "ReapplyResult",
    "failure_text",
    "list_deliveries",
    "log_delivery",
    "parse_filters",
    "prune_deliveries",
    "prune_expired_deliveries",
    "prune_when_due",
    "reapply",
    "record_delivery",
]
