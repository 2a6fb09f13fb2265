"""The Reflex app: pages, live balance pusher, hold sweeper and the HTTP API on one backend.

The theme lives in rxconfig.py (RadixThemesPlugin).
"""

import reflex as rx

from credits_app import pages  # noqa: F401 (registers every page)
from credits_app.api import create_api
from credits_app.live.pusher import balance_pusher
from credits_app.services.billing.reconcile.schedule import reconcile_forever
from credits_app.services.billing.webhook_log import prune_when_due
from credits_app.services.holds import sweep_holds_forever

app = rx.App(
    # The pages' Content-Security-Policy lets them reach the backend where Reflex says it is.
    api_transformer=create_api(backend_urls=[rx.config.get_config().api_url]),
    stylesheets=["/styles.css"],
)
app.register_lifespan_task(balance_pusher)
# Lazy expiry keeps balances right; the sweep also frees holds of users who never return,
# and once an hour prunes the webhook log past WEBHOOK_LOG_RETENTION_DAYS.
app.register_lifespan_task(sweep_holds_forever, housekeeping=prune_when_due)
# Reconciliation against Stripe every RECONCILE_EVERY_MINUTES: it logs drift, never repairs.
app.register_lifespan_task(reconcile_forever)
