"""Reflex configuration.

Ports, database and Redis are not set here on purpose: `reflex run --backend-only` and
`--env prod` refuse hard-coded ports, so they come from the environment
(`REFLEX_BACKEND_PORT`, `REFLEX_FRONTEND_PORT`, `REFLEX_REDIS_URL`, ...). The app's own
database is configured by `DATABASE_URL` (see credits_app/settings.py), not by Reflex.
"""

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

config = rx.Config(
    app_name="credits_app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    disable_plugins=[SitemapPlugin],
)
