"""Time from an API spend's response to the new balance on an open dashboard (headless chromium).

The page records, with a MutationObserver, the wall-clock time at which `#balance` first
shows each value; the benchmark subtracts the time the spend's HTTP response arrived (same
machine, same clock). p50/p95 over 50 spends, with 1 worker (SQLite) and 2 workers
(PostgreSQL + Redis), against the production build of the pages.
Run: .venv/bin/python bench/live.py [--setups sqlite-1,postgres-2] [--spends 50]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import _backend
import _common
import httpx
from _runner import percentile
from sqlmodel import Session

from credits_app.db import make_engine
from credits_app.services.sessions import start_session
from credits_app.services.tokens import generate_access_token
from tests.support import services

TARGETS_MS = {1: 250.0, 2: 500.0}
START_CREDITS = 1_000_000
# Records when #balance first shows each value, whatever re-renders the element.
OBSERVER = """
window.__seen = {};
const record = () => {
  const el = document.getElementById('balance');
  const match = el && el.textContent.replace(/,/g, '').match(/-?\\d+/);
  if (match && !(match[0] in window.__seen)) window.__seen[match[0]] = Date.now();
};
new MutationObserver(record).observe(document, {subtree: true, childList: true,
  characterData: true});
"""


def chromium_path() -> str | None:
    """The system chromium (CREDITS_CHROMIUM overrides), or None."""
    for path in (os.environ.get("CREDITS_CHROMIUM", ""), "/usr/bin/chromium"):
        if path and shutil.which(path):
            return path
    return None


def login_token(url: str, user_id: int) -> str:
    """Open a login session for the user through the sessions service."""
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        token = start_session(session=session, user_id=user_id)
    engine.dispose()
    return token


def measure(server_url: str, user_id: int, session_token: str, spends: int) -> list[float]:
    """Open the dashboard logged in, spend `spends` times; return ms until each shows."""
    from playwright.sync_api import sync_playwright

    api_token = generate_access_token(user_id, "bench", ttl_seconds=3600)
    headers = {"Authorization": f"Bearer {api_token}"}
    latencies = []
    with sync_playwright() as play, httpx.Client(base_url=server_url, timeout=30) as http:
        browser = play.chromium.launch(executable_path=chromium_path(), args=services.CHROMIUM_ARGS)
        context = browser.new_context(base_url=server_url)
        context.add_init_script(f"localStorage.setItem('credits_session', {session_token!r});")
        context.add_init_script(OBSERVER)
        page = context.new_page()
        page.goto("/dashboard")
        page.wait_for_function(f"window.__seen['{START_CREDITS}'] !== undefined", timeout=60_000)
        for n in range(1, spends + 1):
            body = {"amount": 1, "feature": "bench", "idempotencyKey": f"live-{uuid.uuid4().hex}"}
            response = http.post("/api/credits/spend", json=body, headers=headers)
            answered = time.time() * 1000
            if response.status_code != 200:
                raise SystemExit(f"spend failed: {response.status_code} {response.text}")
            value = START_CREDITS - n
            page.wait_for_function(f"window.__seen['{value}'] !== undefined", timeout=10_000)
            latencies.append(page.evaluate(f"window.__seen['{value}']") - answered)
        browser.close()
    return latencies


def bench_setup(setup: _backend.Setup, spends: int, web_dir: Path) -> dict:
    """Build and serve the pages for one deployment and measure its live updates."""
    with _common.database(setup.db) as url:
        user_id = _common.seed_users(url, 1, credits=START_CREDITS)[0]
        token = login_token(url, user_id)
        began = time.perf_counter()
        env = {"REFLEX_WEB_WORKDIR": str(web_dir)}
        with _backend.backend(url, setup, pages=True, extra_env=env) as server:
            print(
                f"  {setup.name}: app built and serving after {time.perf_counter() - began:.0f} s"
            )
            latencies = measure(server.url, user_id, token, spends)
        problems = _common.check_ledger(url)
        if problems:
            raise SystemExit(f"ledger check failed on {setup.name}: {problems[:3]}")
        print(f"  {setup.name} done", flush=True)
    p95 = percentile(latencies, 95)
    return {
        "setup": setup.name,
        "workers": setup.workers,
        "spends": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(max(latencies), 1),
        "target_p95_ms": TARGETS_MS.get(setup.workers),
        "met": p95 < TARGETS_MS.get(setup.workers, float("inf")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--setups", default="sqlite-1,postgres-2", help="comma list")
    parser.add_argument("--spends", type=int, default=50, help="spends per setup")
    args = parser.parse_args()
    _backend.use_app_secrets()
    setups, notes = _backend.available_setups(args.setups.split(","))
    if chromium_path() is None:
        setups, notes = [], [*notes, "no chromium at /usr/bin/chromium: nothing measured"]
    # Kept between runs so the frontend's packages are installed only once.
    web_dir = Path(tempfile.gettempdir()) / f"credits-bench-web-{os.getuid()}"
    rows = [bench_setup(setup, args.spends, web_dir) for setup in setups]
    headers = ["setup", "workers", "spends", "p50 ms", "p95 ms", "max ms", "target p95", "met"]
    keys = ["setup", "workers", "spends", "p50_ms", "p95_ms", "max_ms", "target_p95_ms", "met"]
    print()
    _common.print_table(headers, [[r[k] for k in keys] for r in rows])
    for note in notes:
        print(f"note: {note}")
    _common.emit_json("live", {"results": rows, "notes": notes})


if __name__ == "__main__":
    main()
