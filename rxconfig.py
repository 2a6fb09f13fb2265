"""Reflex configuration.

Ports, database and Redis are not set here on purpose: `reflex run --backend-only` and
`--env prod` refuse hard-coded ports, so they come from the environment
(`REFLEX_BACKEND_PORT`, `REFLEX_FRONTEND_PORT`, `REFLEX_REDIS_URL`, ...; `python -m
credits_app run` / `run-prod` set them from FRONTEND_PORT, BACKEND_PORT, PORT, REDIS_URL).
The app's own database is configured by `DATABASE_URL` (see credits_app/settings.py).
"""

import os
from urllib.parse import urlsplit

import reflex as rx
from reflex.plugins import RadixThemesPlugin
from reflex.plugins.sitemap import SitemapPlugin

from credits_app.runtime.dev_server import DevServerPlugin


def _cors_allowed_origins() -> list[str]:
    """Origins allowed to call the backend: CORS_ALLOWED_ORIGINS, else SITE_URL in prod.

    Dev mode allows any origin (the Vite dev server runs on another port). Production
    allows only the public site; `REFLEX_CORS_ALLOWED_ORIGINS` still overrides this.
    """
    listed = [o.strip() for o in os.environ.get("CORS_ALLOWED_ORIGINS", "").split(",")]
    if any(listed):
        return [o for o in listed if o]
    production = "prod" in (os.environ.get("CREDITS_ENV"), os.environ.get("REFLEX_ENV_MODE"))
    if not production:
        return ["*"]
    site = urlsplit(os.environ.get("SITE_URL") or "http://localhost:3000")
    return [f"{site.scheme}://{site.netloc}"]


config = rx.Config(
    app_name="credits_app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # App(theme=...) is deprecated in Reflex 0.10; the theme belongs to this plugin.
    plugins=[
        RadixThemesPlugin(
            theme=rx.theme(
                appearance="inherit", accent_color="violet", gray_color="slate", radius="large"
            )
        ),
        # The dev server (port 3000) sends the security headers and passes /api to the backend.
        DevServerPlugin(),
    ],
    disable_plugins=[SitemapPlugin],
    cors_allowed_origins=_cors_allowed_origins(),
)
