"""Routes: what the token's user is entitled to, their usage, and their ledger as CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from credits_app.api.deps import ClaimsDep, ReadSessionDep
from credits_app.api.schemas import EntitlementsResponse, error_responses
from credits_app.api.schemas.me import HoldOut, LotOut, NextExpiryOut, PlanOut, SubscriptionOut
from credits_app.api.schemas.usage import UsageItem, UsageResponse
from credits_app.services.analytics import day_range, grouping, usage_report
from credits_app.services.entitlements import entitlements_of
from credits_app.services.ledger_export import stream_ledger_csv, ticket_user

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
    """Balance, available credits, lots, active holds, plan and 30-day usage of the token's user.

    `lots` lists the lots with credits left in burn order; `nextExpiry` says when credits
    next expire and how many (null when none ever do). A valid token of any feature is
    accepted.
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
        next_expiry=(
            NextExpiryOut(at=found.next_expiry.at, credits=found.next_expiry.credits)
            if found.next_expiry
            else None
        ),
        lots=[
            LotOut(
                id=lot.id,
                amount=lot.amount,
                remaining=lot.remaining,
                category=lot.category,
                source=lot.source,
                priority=lot.priority,
                effective_at=lot.effective_at,
                expires_at=lot.expires_at,
            )
            for lot in found.lots
        ],
    )


@router.get(
    "/usage",
    summary="Read usage per day or per feature",
    response_model=UsageResponse,
    response_model_exclude_none=True,
    responses=error_responses(401, 404, 422),
)
def usage(
    claims: ClaimsDep,
    session: ReadSessionDep,
    first: Annotated[str | None, Query(alias="from", max_length=32)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=32)] = None,
    group_by: Annotated[str | None, Query(alias="groupBy", max_length=32)] = None,
) -> UsageResponse:
    """Credits the token's user used from `from` to `to`, per day or per feature.

    `from` and `to` are UTC days like 2026-11-30, both included (default: the last 30
    days, today included; at most 366 days). `groupBy=day` (the default) lists every day
    of the range, oldest first, with credits per feature; `groupBy=feature` lists the
    features that used credits, most first. Read from the daily rollup: as fast at a
    million uses as at ten. A valid token of any feature is accepted.
    """
    days = day_range(first, last)
    by = grouping(group_by)
    report = usage_report(session=session, user_id=claims.user_id, days=days)
    if by == "day":
        items = [
            UsageItem(date=d.day, credits=d.credits, uses=d.uses, by_feature=d.by_feature)
            for d in report.by_day
        ]
    else:
        items = [
            UsageItem(feature=f.feature, credits=f.credits, uses=f.uses) for f in report.by_feature
        ]
    return UsageResponse(
        from_=days.first,
        to=days.last,
        group_by=by,
        credits=report.credits,
        uses=report.uses,
        items=items,
    )


# The dashboard's download, not part of the client API: left out of the OpenAPI schema.
@router.get("/ledger.csv", response_class=StreamingResponse, include_in_schema=False)
def ledger_csv(ticket: Annotated[str, Query(max_length=1000)]) -> StreamingResponse:
    """Stream the ledger of the ticket's user as CSV, one page of entries at a time.

    The dashboard's "Export CSV" button mints the `ticket` for the logged-in user and has
    the browser download this URL; the ticket is good for one download within 60 seconds.
    Access tokens are not accepted here.
    """
    chunks = stream_ledger_csv(user_id=ticket_user(ticket))
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="credits-ledger.csv"',
            "Cache-Control": "no-store",
        },
    )
