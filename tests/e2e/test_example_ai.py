"""The example AI page: cost first, output streams, the charge is exact, failures are free."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from playwright.sync_api import expect
from sqlmodel import select

from credits_app.db import engine_for, read_session, session_scope
from credits_app.models import CreditHold, HoldStatus, LedgerEntry
from credits_app.services.ai import LocalProvider, actual_cost, estimate_cost
from credits_app.services.invariants import check_ledger
from credits_app.settings import get_settings
from tests.e2e.conftest import screenshot
from tests.e2e.helpers import balance, expect_balance, login, new_email
from tests.support.factories import make_user
from tests.support.openai_server import PAUSE_AFTER, answer_pieces, start_fake_openai


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


PASTED = (
    "Our bakery switched ovens in March. The new ovens bake sourdough evenly and the crust is "
    "wonderful, but the proofing drawer is tiny and awkward. Deliveries from the supplier were "
    "late twice, which hurt the morning rush badly. Customers still praise the croissants and "
    "the cinnamon buns every single day. Energy bills dropped by a fifth, and the staff enjoy "
    "the quieter kitchen. We would buy these ovens again, although we want a bigger drawer. "
    "Cleaning takes longer than before because the racks are heavy and the seals trap flour."
)


def _analysis(text: str) -> str:
    """The exact output the (deterministic) local analyser streams for `text`."""
    return "".join(LocalProvider(chunk_delay=0).stream(text, max_words=300))


def test_text_pasted_and_run_at_once_is_the_text_analysed_and_charged(visitor, live_app):
    user = _make(live_app, 1000)
    page = _open(visitor, user)
    shown = page.locator("#prompt").input_value()
    expected = _analysis(PASTED)
    cost = actual_cost(PASTED, expected)
    assert cost != actual_cost(shown, _analysis(shown))  # the old text would be charged otherwise

    page.fill("#prompt", PASTED)
    page.click("#run-ai")  # at once: well within the text box's 250 ms debounce

    expect(page.locator("#final-cost")).to_be_visible(timeout=30_000)
    output = page.locator("#ai-output").inner_text()
    assert "bakery" in output.lower() or "ovens" in output.lower(), output
    assert output.split() == expected.split()
    assert _number(page, "#final-cost") == cost
    expect_balance(page, 1000 - cost)
    with read_session(engine_for(live_app.database_url)) as session:
        entries = session.exec(select(LedgerEntry).where(LedgerEntry.user_id == user.id)).all()
    assert [(e.kind, e.delta) for e in entries if e.kind == "capture"] == [("capture", -cost)]
    assert entries[-1].balance_after == 1000 - cost
    assert _ledger_kinds(live_app, user.id) == Counter(grant=1, hold=1, capture=1)


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


@contextmanager
def _pausing_provider(monkeypatch):
    """Point the running app at an OpenAI-compatible server that pauses after three words."""
    fake = start_fake_openai()
    fake.pause = 3.0
    monkeypatch.setenv("AI_PROVIDER", "openai")
    monkeypatch.setenv("AI_BASE_URL", fake.base_url)
    monkeypatch.setenv("AI_MODEL", "pause")
    monkeypatch.setenv("AI_API_KEY", "sk-test-e2e")
    get_settings.cache_clear()
    try:
        yield
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        fake.stop()


def _settled_hold(live_app, user_id: int, timeout: float = 20.0) -> CreditHold:
    deadline = time.monotonic() + timeout
    while True:
        with read_session(engine_for(live_app.database_url)) as session:
            hold = session.exec(select(CreditHold).where(CreditHold.user_id == user_id)).one()
        if hold.status != HoldStatus.ACTIVE:
            return hold
        assert time.monotonic() < deadline, "the run never settled its hold"
        time.sleep(0.1)


def test_closing_the_tab_mid_run_charges_only_what_it_showed(visitor, live_app, monkeypatch):
    user = _make(live_app, 100)
    shown = "".join(answer_pieces()[:PAUSE_AFTER])
    with _pausing_provider(monkeypatch):
        page = _open(visitor, user)
        page.fill("#prompt", PASTED)
        page.click("#run-ai")
        expect(page.locator("#ai-output")).to_have_text(re.compile(rf"^\s*{shown.strip()}\s*$"))
        page.close()  # the provider pauses; when it goes on, nobody is watching any more
        hold = _settled_hold(live_app, user.id)

    cost = actual_cost(PASTED, shown)
    assert (hold.status, hold.captured, hold.result) == ("captured", cost, shown)
    assert hold.outcome == "disconnected"
    with read_session(engine_for(live_app.database_url)) as session:
        entries = session.exec(select(LedgerEntry).where(LedgerEntry.user_id == user.id)).all()
    assert entries[-1].balance_after == 100 - cost
    assert _ledger_kinds(live_app, user.id) == Counter(grant=1, hold=1, capture=1)
