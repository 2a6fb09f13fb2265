"""The example AI page: cost first, output streams, the charge is exact, failures are free."""

from __future__ import annotations

import re
import threading
from collections import Counter
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from playwright.sync_api import expect
from sqlmodel import select

from credits_app.db import engine_for, read_session, session_scope
from credits_app.models import LedgerEntry
from credits_app.services.ai import estimate_cost
from credits_app.services.invariants import check_ledger
from credits_app.settings import get_settings
from tests.e2e.conftest import screenshot
from tests.e2e.helpers import balance, expect_balance, login, new_email
from tests.support.factories import make_user


def _make(live_app, credits: int):
    with session_scope(engine_for(live_app.database_url)) as session:
        return make_user(session, email=new_email("ai"), credits=credits)


def _ledger_kinds(live_app, user_id: int) -> Counter:
    with read_session(engine_for(live_app.database_url)) as session:
        entries = session.exec(select(LedgerEntry).where(LedgerEntry.user_id == user_id)).all()
        assert check_ledger(session=session) == []
    return Counter(entry.kind for entry in entries)


def _number(page, selector: str) -> int:
    return int(re.search(r"\d+", page.locator(selector).inner_text()).group())


# Record every length the output text had, to see it arrive in pieces rather than at once.
_WATCH_OUTPUT = """() => {
  window.outputLengths = [];
  new MutationObserver(() => {
    const out = document.querySelector('#ai-output');
    if (out) window.outputLengths.push(out.innerText.length);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def _open(visitor, user):
    page = visitor.new_page()
    page.goto("/example-ai")
    login(page, user.email, path="/example-ai")
    expect(page.locator("#estimate")).to_contain_text("credits")
    return page


def test_a_double_clicked_run_streams_and_charges_the_final_cost_once(visitor, live_app):
    user = _make(live_app, 1000)
    page = _open(visitor, user)
    expect(page.get_by_text("Text to analyse")).to_be_visible()
    page.fill("#prompt", "")
    expect(page.locator("#run-ai")).to_be_disabled()
    text = (
        "I love the new reports. Setup was quick and the charts are clear. Sadly the export "
        "is slow and annoying on big accounts, but support fixed our billing issue fast."
    )
    page.fill("#prompt", text)
    estimate = estimate_cost(text)
    expect(page.locator("#estimate")).to_contain_text(f"up to {estimate} credits")

    page.evaluate(_WATCH_OUTPUT)
    page.locator("#run-ai").dblclick()
    expect(page.locator("#reserved")).to_contain_text(f"Reserved {estimate}")
    expect(page.locator("#final-cost")).to_be_visible(timeout=30_000)
    cost = _number(page, "#final-cost")
    assert 1 <= cost <= estimate
    expect_balance(page, 1000 - cost)
    output = page.locator("#ai-output").inner_text()
    assert "Summary:" in output and "Sentiment:" in output
    seen = page.evaluate("window.outputLengths")
    assert len(set(seen)) >= 3, f"the output did not stream in pieces: {seen}"
    assert page.locator("#ai-output").evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
    assert _ledger_kinds(live_app, user.id) == Counter(grant=1, hold=1, capture=1)
    screenshot(page, "example-ai")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "example-ai-375")

    page.click("#run-ai")  # a deliberate second run is a new run with a new key
    expect_balance(page, 1000 - 2 * cost, timeout=30_000)
    assert _ledger_kinds(live_app, user.id) == Counter(grant=1, hold=2, capture=2)


def test_too_few_credits_says_so_links_to_credits_and_charges_nothing(visitor, live_app):
    user = _make(live_app, 3)
    page = _open(visitor, user)
    page.click("#run-ai")
    expect(page.locator("#insufficient")).to_be_visible()
    expect(page.locator("#insufficient")).to_contain_text("you have 3 available")
    expect(page.locator("#insufficient").get_by_role("link")).to_have_attribute("href", "/credits")
    assert balance(page) == 3
    assert _ledger_kinds(live_app, user.id) == Counter(grant=1)
    screenshot(page, "example-ai-insufficient")


class _Broken(BaseHTTPRequestHandler):
    """An OpenAI-compatible address whose every answer is a 500."""

    def do_POST(self):  # http.server calls this name
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(500)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"error": {"message": "model crashed"}}')

    def log_message(self, *args):  # keep the test output quiet
        pass


@contextmanager
def _failing_provider(monkeypatch):
    """Point the running app (same process) at a provider that always fails."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AI_PROVIDER", "openai")
    monkeypatch.setenv("AI_BASE_URL", f"http://127.0.0.1:{server.server_port}/v1")
    monkeypatch.setenv("AI_API_KEY", "sk-test-e2e")
    get_settings.cache_clear()
    try:
        yield
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        server.shutdown()


def test_a_failing_provider_shows_why_and_charges_nothing(visitor, live_app, monkeypatch):
    user = _make(live_app, 100)
    with _failing_provider(monkeypatch):
        page = _open(visitor, user)
        expect(page.get_by_text("Prompt", exact=True)).to_be_visible()
        page.click("#run-ai")
        expect(page.locator("#ai-error")).to_contain_text("Nothing was charged", timeout=30_000)
        expect(page.locator("#ai-error")).to_contain_text("HTTP 500")
        expect(page.locator("#reserved")).to_have_count(0)
    expect_balance(page, 100)
    assert _ledger_kinds(live_app, user.id) == Counter(grant=1, hold=1, release=1)
    screenshot(page, "example-ai-provider-failed")
