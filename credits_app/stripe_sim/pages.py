"""Shared layout for the hosted pages: inline CSS (light and dark), escaping, formatting."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from starlette.responses import HTMLResponse

_CSS = """
:root{color-scheme:light dark;--bg:#f6f8fa;--card:#fff;--text:#1a1f36;--muted:#5e6577;
--line:#e3e8ee;--accent:#635bff;--accent-text:#fff;--error-bg:#fdecea;--error:#a1151f;
--ok-bg:#e6f6ec;--ok:#1a6b3a}
@media (prefers-color-scheme:dark){:root{--bg:#0f1320;--card:#181d2d;--text:#eef0f6;
--muted:#a3a9bb;--line:#2b3247;--accent:#8c85ff;--accent-text:#0f1320;--error-bg:#3a1719;
--error:#ffb4ae;--ok-bg:#12301f;--ok:#8ee0ad}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);line-height:1.5;
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:440px;margin:0 auto;padding:24px 16px 48px}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:20px;
margin-top:16px}
.badge{display:inline-block;font-size:12px;font-weight:600;letter-spacing:.04em;
text-transform:uppercase;background:#ffde92;color:#5c3d00;border-radius:6px;padding:2px 8px}
h1{font-size:22px;margin:12px 0 4px}h2{font-size:18px;margin:0 0 4px}
.muted{color:var(--muted);font-size:14px}
.row{display:flex;justify-content:space-between;gap:12px;padding:8px 0;
border-bottom:1px solid var(--line)}
.row:last-child{border-bottom:0}
.total{font-size:28px;font-weight:700;margin:4px 0}
label{display:block;font-weight:600;font-size:14px;margin:16px 0 6px}
input[type=text],input[type=email]{width:100%;font:inherit;padding:12px;color:var(--text);
background:var(--bg);border:1px solid var(--line);border-radius:8px}
.check{display:flex;gap:8px;align-items:flex-start;font-weight:400}
button,.button{display:block;width:100%;margin-top:16px;padding:12px 16px;font:inherit;
font-weight:600;border:0;border-radius:8px;background:var(--accent);color:var(--accent-text);
text-align:center;text-decoration:none;cursor:pointer}
button.secondary{background:transparent;color:var(--accent);border:1px solid var(--line)}
a{color:var(--accent)}
.alert{border-radius:8px;padding:12px;margin-top:16px;background:var(--error-bg);color:var(--error)}
.notice{border-radius:8px;padding:12px;margin-top:16px;background:var(--ok-bg);color:var(--ok)}
.back{display:inline-block;margin-top:20px}
.card>:first-child{margin-top:0}
"""

# Another site must not frame a page and steer a person's click onto its Pay button.
_NOT_FRAMED = {"Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY"}


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    """Wrap page content in the shared layout.

    Args:
        title: Document title (plain text, escaped here).
        body: Inner HTML, already escaped by the caller.
        status: HTTP status code.
    """
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style>"
        # An empty icon: browsers stop asking for /favicon.ico, which would log a 404.
        '<link rel="icon" href="data:,"></head><body><main>'
        '<span class="badge">Test mode · Stripe simulator</span>'
        f"{body}</main></body></html>"
    )
    return HTMLResponse(html, status, _NOT_FRAMED)


def message_page(
    title: str, text: str, link: str | None = None, label: str = "Continue", status: int = 200
):
    """A page with a heading, a sentence and an optional link button."""
    button = f'<a class="button" href="{escape(link)}">{escape(label)}</a>' if link else ""
    body = f'<div class="card"><h1>{escape(title)}</h1><p>{escape(text)}</p>{button}</div>'
    return page(title, body, status)


def foreign_form_page() -> HTMLResponse:
    """The answer (403) to a form that another site's page posted to one of ours."""
    text = "This form was sent from another site's page. Open the link and submit it here."
    return message_page("Not sent from this page", text, status=403)


def date(timestamp: int | None) -> str:
    """A readable UTC date such as `March 3, 2027`."""
    if not timestamp:
        return "-"
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return f"{moment:%B} {moment.day}, {moment.year}"


def credits_text(price: dict[str, Any], quantity: int = 1) -> str:
    """`100 credits` (or `1,000 credits / month`) from the price's `includedCredits`."""
    raw = price.get("metadata", {}).get("includedCredits")
    if not raw or not str(raw).isdigit():
        return ""
    per = f" / {price['recurring']['interval']}" if price.get("recurring") else ""
    return f"{int(raw) * quantity:,} credits{per}"
