"""Money to credits: each amount at its price's rate, rounded in favour of the money."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credits_app.services.billing.money import clawback_share, line_credits


@pytest.mark.parametrize(
    ("amount", "unit_amount", "included", "credits"),
    [
        pytest.param(1500, 1500, 1000, 1000, id="a full month"),
        pytest.param(4500, 1500, 1000, 3000, id="three seats"),
        pytest.param(1, 1500, 1000, 0, id="a cent buys less than one credit: none"),
        pytest.param(-1, 1500, 1000, -1, id="a cent of credit takes a whole credit back"),
        pytest.param(751, 1500, 1000, 500, id="a proration charge rounds down"),
        pytest.param(-751, 1500, 1000, -501, id="a proration credit rounds up in size"),
        pytest.param(0, 1500, 1000, 0, id="a trial line"),
        pytest.param(1500, 0, 1000, 0, id="a free price buys nothing"),
        pytest.param(1500, 1500, None, 0, id="a price that is not ours"),
    ],
)
def test_a_line_buys_its_amount_at_its_price_rate(amount, unit_amount, included, credits):
    assert line_credits(amount, unit_amount, included) == credits


@given(st.integers(-(10**7), 10**7), st.integers(1, 10**6), st.integers(1, 10**6))
def test_rounding_never_gives_a_credit_that_no_money_paid_for(amount, unit_amount, included):
    credits = line_credits(amount, unit_amount, included)
    # credits * unit <= amount * included: never more than the money, in either direction
    assert credits * unit_amount <= amount * included
    assert (credits + 1) * unit_amount > amount * included


@pytest.mark.parametrize(
    ("credits", "part", "whole", "share"),
    [
        pytest.param(500, 500, 2000, 125, id="a quarter"),
        pytest.param(1000, 1, 1500, 1, id="one cent takes a credit back"),
        pytest.param(1000, 1500, 1500, 1000, id="all of it"),
        pytest.param(1000, 3000, 1500, 1000, id="never more than the credits"),
        pytest.param(0, 100, 100, 0, id="nothing bought"),
    ],
)
def test_a_refund_takes_back_its_share_rounded_up(credits, part, whole, share):
    assert clawback_share(credits, part, whole) == share
