"""Small browser steps shared by the e2e tests."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

PASSWORD = "correct-horse-battery"
# What the simulator's demo catalogue grants (credits_app/stripe_sim/seed.py).
STARTER_PACK_CREDITS = 100  # price_sim_starter: $5
MONTHLY_PLAN_CREDITS = 1000  # price_sim_monthly: $15 a month


def new_email(prefix: str = "user") -> str:
    """A unique address for a fresh account."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


def balance(page: Page) -> int:
    """The integer in the nav bar's #balance element."""
    text = page.locator("#balance").inner_text()
    return int(re.search(r"-?\d+", text.replace(",", "")).group())


def expect_balance(page: Page, value: int, timeout: float = 10_000) -> None:
    """Wait until the nav bar shows this balance."""
    expect(page.locator("#balance")).to_have_text(re.compile(rf"^\s*{value}\b"), timeout=timeout)


def route_pattern(path: str) -> re.Pattern[str]:
    """Match a URL on `path`, with or without the trailing slash of prod builds, any query."""
    return re.compile(rf"^[^?#]*{re.escape(path.rstrip('/'))}/?([?#].*)?$")


def register(page: Page, email: str, password: str = PASSWORD) -> None:
    """Register through the form, follow the link shown at /dev/mail, log in: on the dashboard."""
    page.goto("/register")
    page.fill("#email", email)
    page.fill("#password", password)
    page.fill("#confirm", password)
    page.click("#auth-submit")
    expect(page.locator("#auth-notice")).to_contain_text(email)
    page.goto("/dev/mail")
    page.locator(".mail", has_text=email).first.locator(".mail-link").click()
    expect(page.locator("#verify-result")).to_contain_text("is confirmed")
    page.goto("/login")
    login(page, email, password)
    expect(page.locator("#balance")).to_be_visible()


def login(page: Page, email: str, password: str = PASSWORD, path: str = "/dashboard") -> None:
    """Log in through the form, then wait to land on `path`."""
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#auth-submit")
    page.wait_for_url(route_pattern(path))
