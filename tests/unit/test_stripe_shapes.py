"""Stripe objects are read the same in the current API and in the one before 2025-03-31."""

from __future__ import annotations

from credits_app.services.billing import stripe_shapes as shapes

CURRENT_INVOICE = {
    "id": "in_1",
    "parent": {
        "type": "subscription_details",
        "subscription_details": {"subscription": "sub_1", "metadata": {"user_id": "7"}},
    },
    "payments": {
        "data": [
            {"status": "open", "payment": {"payment_intent": "pi_old"}},
            {"status": "paid", "payment": {"payment_intent": "pi_1"}},
        ]
    },
}
LEGACY_INVOICE = {
    "id": "in_1",
    "subscription": "sub_1",
    "subscription_details": {"metadata": {"user_id": "7"}},
    "payment_intent": "pi_1",
}
CURRENT_PRORATION = {
    "parent": {
        "type": "invoice_item_details",
        "invoice_item_details": {"proration": True, "invoice_item": "ii_1"},
    },
    "pricing": {"price_details": {"price": "price_a", "product": "prod_a"}},
    "quantity": 2,
}
LEGACY_PRORATION = {"type": "invoiceitem", "proration": True, "price": {"id": "price_a"}}
LEGACY_PERIOD = {"type": "subscription", "proration": False, "price": {"id": "price_b"}}


def test_an_invoice_names_its_subscription_metadata_and_payment_in_both_versions():
    for invoice in (CURRENT_INVOICE, LEGACY_INVOICE):
        assert shapes.invoice_subscription(invoice) == "sub_1"
        assert shapes.invoice_metadata(invoice) == {"user_id": "7"}
        assert shapes.invoice_payment_intent(invoice) == "pi_1"


def test_a_line_names_its_price_and_proration_flag_in_both_versions():
    assert shapes.line_price_id(CURRENT_PRORATION) == "price_a"
    assert shapes.line_price_id(LEGACY_PRORATION) == "price_a"
    assert shapes.line_is_proration(CURRENT_PRORATION) is True
    assert shapes.line_is_proration(LEGACY_PRORATION) is True
    assert shapes.line_is_proration(LEGACY_PERIOD) is False
    assert shapes.line_quantity(CURRENT_PRORATION) == 2
    assert shapes.line_quantity(LEGACY_PERIOD) == 1


def test_embedded_refunds_are_used_only_when_the_list_is_complete():
    complete = {"refunds": {"data": [{"id": "re_1"}], "has_more": False}}
    partial = {"refunds": {"data": [{"id": f"re_{i}"} for i in range(10)], "has_more": True}}
    assert shapes.embedded_refunds(complete) == [{"id": "re_1"}]
    assert shapes.embedded_refunds(partial) is None
    assert shapes.embedded_refunds({"id": "ch_1"}) is None  # not expanded since 2022-11-15
