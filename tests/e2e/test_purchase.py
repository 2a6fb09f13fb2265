"""Registering, buying a pack on the simulator's checkout page, and the balance arriving."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.e2e.helpers import STARTER_PACK_CREDITS, balance, expect_balance, new_email, register


def test_register_buy_a_pack_and_the_credits_arrive(visitor):
    page = visitor.new_page()
    page.goto("/")
    expect(page.get_by_text("Credits for your AI product")).to_be_visible()
    screenshot(page, "home")
    page.goto("/register")
    screenshot(page, "register")
    register(page, new_email("buyer"))
    assert balance(page) == 0

    page.goto("/credits")
    expect(page.get_by_text("Credit packs")).to_be_visible()
    screenshot(page, "credits")
    page.locator("#buy-price_sim_starter").click()
    page.wait_for_url("**/checkout/**")
    screenshot(page, "simulator-checkout")
    page.get_by_role("button", name="Pay").click()

    page.wait_for_url("**/credits/success**")
    expect(page.locator("#purchase-arrived")).to_be_visible(timeout=15_000)
    assert balance(page) == STARTER_PACK_CREDITS
    screenshot(page, "credits-success")

    page.goto("/dashboard")
    expect_balance(page, STARTER_PACK_CREDITS)
    expect(page.locator("#ledger")).to_contain_text("Purchase")
    screenshot(page, "dashboard")

    page.goto("/credits/cancel")
    expect(page.get_by_text("You were not charged")).to_be_visible()
    screenshot(page, "credits-cancel")
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto("/dashboard")
    expect(page.locator("#balance")).to_be_visible()
    expect(page.locator("#ledger")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the dashboard scrolls sideways at 375 px ({width} px wide)"
    screenshot(page, "dashboard-375")
