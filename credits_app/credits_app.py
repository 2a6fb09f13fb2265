"""The Reflex app: pages plus the HTTP API mounted on the same backend."""

import reflex as rx

from credits_app.api import create_api

app = rx.App(api_transformer=create_api())


@rx.page(route="/", title="Credits")
def index() -> rx.Component:
    """Placeholder home page until the web app lands."""
    return rx.center(rx.heading("Credits"), height="100vh")
