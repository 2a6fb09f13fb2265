"""Routes: what the token's user is entitled to."""

from __future__ import annotations

from fastapi import APIRouter

from credits_app.api.deps import ClaimsDep, ReadSessionDep
from credits_app.api.schemas import EntitlementsResponse, error_responses
from credits_app.api.schemas.me import HoldOut, PlanOut, SubscriptionOut
from credits_app.services.entitlements import entitlements_of

router = APIRouter(prefix="/api/me", tags=["me"])


def _plan_and_subscription(view) -> tuple[SubscriptionOut | None, PlanOut | None]:
    if view is None:
        return None, None
    subscription = SubscriptionOut(
        id=view.id,
        status=view.status,
        price_id=view.price_id,
        current_period_end=view.current_period_end,
        cancel_at_period_end=view.cancel_at_period_end,
    )
    plan = PlanOut(
        name=view.plan_name,
        price_id=view.price_id,
        interval=view.interval,
        included_credits=view.included_credits,
    )
    return subscription, plan


@router.get(
    "/entitlements",
    summary="Read entitlements",
    response_model=EntitlementsResponse,
    responses=error_responses(401, 404),
)
def entitlements(claims: ClaimsDep, session: ReadSessionDep) -> EntitlementsResponse:
    """Balance, available credits, active holds, plan and 30-day usage of the token's user.

    A valid token of any feature is accepted.
    """
    found = entitlements_of(session=session, user_id=claims.user_id)
    subscription, plan = _plan_and_subscription(found.subscription)
    return EntitlementsResponse(
        user_id=found.user_id,
        balance=found.balance,
        available=found.available,
        debt=found.debt,
        holds=[
            HoldOut(id=h.id, feature=h.feature, amount=h.amount, expires_at=h.expires_at)
            for h in found.holds
        ],
        subscription=subscription,
        plan=plan,
        spent_by_feature=found.spent_by_feature,
        period_days=found.period_days,
    )
