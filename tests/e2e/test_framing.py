"""Another site cannot frame the app's pages, and the pages break no rule of their own policy.

A page on another origin (here a tiny server on 127.0.0.1, while the app is on localhost)
puts `/admin/grant` in an iframe, as a clickjacking page would. chromium must refuse to render
it at all: not the admin page, not even the login form it would show a framed visitor. The
same hostile page frames one of its own pages as a control, so the test can tell "blocked"
from "not loaded yet".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from credits_app.db import engine_for, session_scope
from tests.e2e.conftest import screenshot
from tests.e2e.helpers import PASSWORD, login, new_email, route_pattern
from tests.support.factories import make_user

PAGES = ("/login", "/register", "/credits", "/dashboard", "/example-ai", "/admin/grant")


def _hostile_page(target: str) -> bytes:
    return f"""<!doctype html><html><body>
<p>Win a prize! Click the button below.</p>
<iframe id="victim" src="{target}" width="900" height="500"></iframe>
<iframe id="control" src="/own" width="300" height="100"></iframe>
</body></html>""".encode()


@pytest.fixture
def hostile_site(live_app) -> Iterator[str]:
    """A site on another origin whose page frames the app's /admin/grant."""
    body = _hostile_page(f"{live_app.url}/admin/grant")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            content = b"<p id='own'>framed fine</p>" if self.path == "/own" else body
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_another_site_cannot_frame_the_admin_grant_page(browser, hostile_site, live_app):
    context = browser.new_context()
    try:
        attacker = context.new_page()
        refusals: list[str] = []
        attacker.on("console", lambda m: refusals.append(m.text))
        attacker.goto(hostile_site)
        expect(attacker.frame_locator("#control").locator("#own")).to_have_text("framed fine")
        # Allowed, the frame would show the app's themed root within a few seconds.
        app_root = attacker.frame_locator("#victim").locator("[data-is-root-theme]")
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and not refusals and not app_root.count():
            attacker.wait_for_timeout(200)
        attacker.wait_for_timeout(500)
        screenshot(attacker, "framing-refused")

        assert app_root.count() == 0, "another site rendered /admin/grant in a frame"
        refused = [t for t in refusals if "frame-ancestors 'none'" in t or "X-Frame-Options" in t]
        assert refused, refusals
    finally:
        context.close()


def test_the_pages_keep_their_own_content_security_policy(visitor, live_app):
    """Every page loads without a CSP violation (the visitor fixture fails on console errors)."""
    with session_scope(engine_for(live_app.database_url)) as session:
        admin = make_user(session, email=new_email("csp"), password=PASSWORD, is_admin=True)
    page = visitor.new_page()
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    response = page.goto("/register")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    expect(page.locator("#auth-submit")).to_be_visible()
    assert page.evaluate("window.__violations") == []
    page.goto("/login")
    login(page, admin.email)
    for path in PAGES[2:]:
        page.goto(path)
        page.wait_for_url(route_pattern(path))
        expect(page.locator("#balance")).to_be_visible()
        page.wait_for_timeout(300)
        assert page.evaluate("window.__violations") == [], path
