"""Credit lots: every grant is a lot with a window, a category and a priority.

Spends, holds and clawbacks draw from lots in burn order and record which ones they drew
from; lots past their window expire with one `expire` entry each. See docs/lots.md.
"""

from credits_app.services.lots.expiry import expire_due_lots, expire_lot, expire_returned
from credits_app.services.lots.policy import PERIOD, add_months, expiry_of, parse_policy
from credits_app.services.lots.queries import LotView, NextExpiry, live_lots, next_expiry
from credits_app.services.lots.store import (
    BURN_ORDER,
    Draw,
    DrawPlan,
    LotTerms,
    apply_draws,
    create_lot,
    give_back_plan,
    grant_lot,
    hold_pins,
    lot_window,
    plan_draw,
    take,
)

__all__ = [
    "BURN_ORDER",
    "PERIOD",
    "Draw",
    "DrawPlan",
    "LotTerms",
    "LotView",
    "NextExpiry",
    "add_months",
    "apply_draws",
    "create_lot",
    "expire_due_lots",
    "expire_lot",
    "expire_returned",
    "expiry_of",
    "give_back_plan",
    "grant_lot",
    "hold_pins",
    "live_lots",
    "lot_window",
    "next_expiry",
    "parse_policy",
    "plan_draw",
    "take",
]
