"""The ASGI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import RedirectResponse

from . import (
    checkout_page,
    portal_page,
    routes_balance,
    routes_billing,
    routes_catalog,
    routes_checkout,
    routes_customers,
    routes_events,
    routes_payments,
    routes_sim,
    routes_sim_config,
    routes_sim_payments,
)
from .config import SimConfig
from .guard import RequestGuard
from .simulator import Simulator


def create_app(config: SimConfig | None = None) -> Starlette:
    """Build the simulator app with fresh state and the demo catalogue.

    Args:
        config: Settings; read from the environment when omitted. `api_base` must be the
            address clients use, because hosted page URLs are built from it, and its host
            name is always allowed in the `Host` header.

    Returns:
        A Starlette app; its `state.sim` is the `Simulator`. The delivery worker starts with
        the app's lifespan (or with the first event) and stops at shutdown.

    Raises:
        LiveKeyRefused: When the config carries a live secret key.
    """
    sim = Simulator(config or SimConfig.from_env())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        del app
        sim.delivery.start()
        yield
        sim.delivery.stop()

    routes = [
        *routes_catalog.ROUTES,
        *routes_customers.ROUTES,
        *routes_balance.ROUTES,
        *routes_checkout.ROUTES,
        *routes_billing.ROUTES,
        *routes_payments.ROUTES,
        *routes_events.ROUTES,
        *routes_events.CATCH_ALL,
        *routes_sim.ROUTES,
        *routes_sim_config.ROUTES,
        *routes_sim_payments.ROUTES,
        *checkout_page.ROUTES,
        *portal_page.ROUTES,
    ]
    # Every request passes the Host allow-list; `/_sim/*` helpers also need the token.
    guard = Middleware(RequestGuard, config=sim.config)
    app = Starlette(routes=routes, middleware=[guard], lifespan=lifespan)
    app.add_route("/", lambda request: RedirectResponse("/_sim/health"), methods=["GET"])
    app.state.sim = sim
    return app
