"""Routes: the price catalogue, Stripe Checkout, the Customer Portal, catalogue sync."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from pydantic import ConfigDict, Field, StrictStr

from credits_app.api.deps import AdminKeyDep, BillingClaimsDep, ReadSessionDep, SessionDep
from credits_app.api.schemas import ApiModel, ResponseModel, error_responses
from credits_app.db import session_scope
from credits_app.services.billing.catalogue import ensure_catalogue, list_prices, sync_prices
from credits_app.services.billing.checkout import start_checkout
from credits_app.services.billing.portal import portal_url

router = APIRouter(prefix="/api/billing", tags=["billing"])

PriceId = Annotated[StrictStr, Field(min_length=1, max_length=255, description="A price id.")]


class PriceOut(ResponseModel):
    """A purchasable price: a pack (one-time) or a plan (recurring)."""

    id: str
    product_name: str
    kind: str = Field(description="`pack` or `plan`.")
    interval: str | None = Field(description="`month` or `year` for plans, else null.")
    unit_amount: int = Field(description="Price in the currency's smallest unit (cents).")
    currency: str
    included_credits: int
    featured: bool = Field(description="Named by a STRIPE_PRICE_* setting.")


PRICE_EXAMPLE = {
    "id": "price_sim_starter",
    "productName": "Starter pack",
    "kind": "pack",
    "interval": None,
    "unitAmount": 500,
    "currency": "usd",
    "includedCredits": 100,
    "featured": True,
}


class PricesResponse(ResponseModel):
    """The active catalogue."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"prices": [PRICE_EXAMPLE]}]})

    prices: list[PriceOut]


class SkippedPrice(ResponseModel):
    """A Stripe price that was not imported, and why."""

    price_id: str
    reason: str


class SyncResponse(ResponseModel):
    """What a catalogue sync did."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "imported": ["price_sim_starter", "price_sim_monthly"],
                    "deactivated": [],
                    "skipped": [{"priceId": "price_123", "reason": "no includedCredits metadata"}],
                    "missingFeatured": [],
                }
            ]
        }
    )

    imported: list[str]
    deactivated: list[str]
    skipped: list[SkippedPrice]
    missing_featured: list[str] = Field(description="STRIPE_PRICE_* ids not found in Stripe.")


class CheckoutRequest(ApiModel):
    """Which price to buy."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"priceId": "price_sim_starter"}]})

    price_id: PriceId


class CheckoutResponse(ResponseModel):
    """Where to send the user to pay."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": "cs_test_a1b2c3", "url": "https://checkout.stripe.com/c/pay/cs_test_a1b2c3"}
            ]
        }
    )

    id: str
    url: str


@router.get(
    "/prices",
    summary="List the price catalogue",
    response_model=PricesResponse,
    responses=error_responses(),
)
def prices(session: ReadSessionDep) -> PricesResponse:
    """The active packs and plans with the credits each includes (public).

    In simulated mode an empty catalogue is first synced from the simulator.
    """
    views = list_prices(session=session)
    if not views:
        with session_scope() as writer:
            if ensure_catalogue(session=writer) is not None:
                views = list_prices(session=writer)
    return PricesResponse(prices=[PriceOut(**vars(view)) for view in views])


@router.post(
    "/sync-prices",
    summary="Sync the catalogue from Stripe (admin)",
    response_model=SyncResponse,
    responses=error_responses(401),
)
def sync(_admin: AdminKeyDep, session: SessionDep) -> SyncResponse:
    """Pull active products and prices (all pages) from Stripe (needs `x-admin-key`).

    Prices without `includedCredits` metadata are reported under `skipped`; prices no
    longer active in Stripe are deactivated, never deleted.
    """
    summary = sync_prices(session=session)
    return SyncResponse(
        imported=summary.imported,
        deactivated=summary.deactivated,
        skipped=[SkippedPrice(price_id=k, reason=v) for k, v in summary.skipped.items()],
        missing_featured=summary.missing_featured,
    )


@router.post(
    "/checkout-session",
    summary="Start a Stripe Checkout session",
    response_model=CheckoutResponse,
    responses=error_responses(401, 403, 404, 409),
)
def checkout_session(
    body: CheckoutRequest, claims: BillingClaimsDep, session: SessionDep
) -> CheckoutResponse:
    """Create a Checkout session for the token's user: a pack is paid once, a plan subscribes.

    Needs a token for feature `billing` (403 otherwise). An unknown or inactive price is a
    422; a second plan while one is active is a 409 (`already_subscribed`, with `portal`
    pointing at the portal link). A plan checkout expires the user's other open plan
    checkouts, so only one can be paid.
    """
    link = start_checkout(session=session, user_id=claims.user_id, price_id=body.price_id)
    return CheckoutResponse(id=link.id, url=link.url)


PORTAL_ROUTE = {
    "summary": "Open the Stripe Customer Portal",
    "status_code": 303,
    "response_class": RedirectResponse,
    "responses": {
        303: {"description": "Redirect to the portal"},
        **error_responses(401, 403, 404),
    },
}


@router.get("/portal-link", operation_id="portal_link_get", **PORTAL_ROUTE)
@router.post("/portal-link", operation_id="portal_link_post", **PORTAL_ROUTE)
def portal_link(claims: BillingClaimsDep, session: SessionDep) -> RedirectResponse:
    """Redirect (303) to a billing portal session that returns to BILLING_PORTAL_RETURN_URL.

    Needs a token for feature `billing` (403 otherwise). A user who never checked out has
    no Stripe customer yet: 404 `not_found`.
    """
    return RedirectResponse(portal_url(session=session, user_id=claims.user_id), 303)
