"""What a browser is told: no framing, no sniffing, little referrer; docs and unsafe setups.

The review found that nothing stopped another site from framing `/admin/grant` (clickjacking),
and that production quietly took no real payments without STRIPE_SECRET_KEY. Here the headers
are checked on the API and on pages served behind it (as the production server serves them);
tests/e2e/test_framing.py frames the real pages in chromium, and tests/runtime checks the
headers of the real dev and production servers.

What the review found sound stays sound: access tokens are HS256 with required claims (every
forged or malformed token is refused over HTTP in tests/api/test_token_rejections.py).
"""

from __future__ import annotations

import json
import time

import jwt
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from credits_app.services.errors import Unauthorized
from credits_app.services.tokens import generate_access_token, verify_access_token
from credits_app.settings import ConfigError, get_settings, load_settings
from tests.api.conftest import TestClient

STRONG_SECRET = "browser-surface-token-secret-0123456789abcdef-0123456789abcdef-0123"
WEBHOOK_SECRET = "whsec_browsersurface0123456789abcdef0123456789"
STRIPE_KEY = "sk_test_51BrowserSurface0123456789"


def _app_with_a_page():
    """The API with a page app mounted under it, the way Reflex mounts its own app."""
    from credits_app.api import create_api

    api = create_api()

    async def page(_request):
        return HTMLResponse("<html><body><h1>Grant credits</h1></body></html>")

    api.mount("", Starlette(routes=[Route("/admin/grant", page)]))
    return api


def _assert_no_framing(headers) -> None:
    assert headers.get("x-frame-options") == "DENY"
    policy = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy, policy
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy") in ("strict-origin-when-cross-origin", "no-referrer")


def test_a_page_cannot_be_framed_by_another_site():
    with TestClient(_app_with_a_page()) as client:
        page = client.get("/admin/grant")

    assert page.status_code == 200 and "Grant credits" in page.text
    _assert_no_framing(page.headers)
    policy = page.headers["content-security-policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'self'"):
        assert directive in policy, policy


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/openapi.json"), ("GET", "/api/nope"), ("POST", "/api/credits/spend")],
)
def test_every_api_answer_forbids_framing_and_sniffing(method, path):
    from credits_app.api import create_api

    with TestClient(create_api()) as client:
        response = client.request(method, path)

    _assert_no_framing(response.headers)
    # JSON is never a document: it may load nothing at all.
    assert "default-src 'none'" in response.headers["content-security-policy"]


def test_hsts_only_in_production(monkeypatch):
    with TestClient(_app_with_a_page()) as client:
        assert "strict-transport-security" not in client.get("/admin/grant").headers

    _production(monkeypatch)
    with TestClient(_app_with_a_page()) as client:
        page, api = client.get("/admin/grant"), client.get("/api/nope")

    for response in (page, api):
        hsts = response.headers["strict-transport-security"]
        assert hsts.startswith("max-age=") and int(hsts.split("=")[1].split(";")[0]) >= 15552000


def _production(monkeypatch, **extra: str):
    values = {
        "CREDITS_ENV": "prod",
        "ACCESS_TOKEN_SECRET": STRONG_SECRET,
        "STRIPE_SECRET_KEY": STRIPE_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "ARGON2_TIME_COST": "3",
        "ARGON2_MEMORY_KIB": "65536",
        **extra,
    }
    for name, value in values.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_settings():
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_api_docs_are_off_in_production_unless_api_docs_is_set(monkeypatch):
    from credits_app.api import create_api

    with TestClient(create_api()) as client:
        assert client.get("/api/docs").status_code == 200  # dev

    _production(monkeypatch)
    with TestClient(create_api()) as client:
        docs, schema = client.get("/api/docs"), client.get("/api/openapi.json")
    assert docs.status_code == 404 and docs.json()["error"]["code"] == "not_found"
    assert schema.status_code == 200  # the schema is public, like docs/api.md

    _production(monkeypatch, API_DOCS="1")
    with TestClient(create_api()) as client:
        assert client.get("/api/docs").status_code == 200


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"STRIPE_SECRET_KEY": None}, "ALLOW_SIMULATED_PAYMENTS"),
        ({"PAYMENTS_MODE": "simulated"}, "ALLOW_SIMULATED_PAYMENTS"),
        ({"STRIPE_WEBHOOK_SECRET": None}, "STRIPE_WEBHOOK_SECRET"),
        (
            {
                "STRIPE_SECRET_KEY": None,
                "ALLOW_SIMULATED_PAYMENTS": "1",
                "STRIPE_WEBHOOK_SECRET": None,
            },
            "STRIPE_WEBHOOK_SECRET",
        ),
        ({"ARGON2_TIME_COST": "1"}, "ARGON2_TIME_COST"),
        ({"ARGON2_MEMORY_KIB": "19456"}, "ARGON2_MEMORY_KIB"),
    ],
)
def test_production_refuses_an_unsafe_setup_in_one_line(monkeypatch, changes, named):
    _production(monkeypatch, **changes)

    with pytest.raises(ConfigError) as refused:
        load_settings()

    message = str(refused.value)
    assert named in message and "\n" not in message, message


def test_production_runs_simulated_payments_only_when_told_to(monkeypatch):
    _production(monkeypatch, STRIPE_SECRET_KEY=None, ALLOW_SIMULATED_PAYMENTS="1")

    settings = load_settings()

    assert settings.payments_mode == "simulated"


def test_tokens_stay_hs256_with_an_expiry(monkeypatch):
    monkeypatch.setenv("ACCESS_TOKEN_SECRET", STRONG_SECRET)
    get_settings.cache_clear()
    good = jwt.decode(generate_access_token(7, "f"), options={"verify_signature": False})
    now = int(time.time())
    claims = {"iss": "credits", "sub": "7", "feature": "f", "iat": now, "exp": now + 60, "jti": "j"}
    no_exp = {k: v for k, v in claims.items() if k != "exp"}
    forged = [
        jwt.encode(claims, None, algorithm="none"),
        jwt.encode(claims, STRONG_SECRET, algorithm="HS512"),
        jwt.encode(no_exp, STRONG_SECRET, algorithm="HS256"),
    ]

    assert jwt.get_unverified_header(generate_access_token(7, "f"))["alg"] == "HS256"
    assert good["exp"] - good["iat"] == 60
    for token in forged:
        with pytest.raises(Unauthorized):
            verify_access_token(token)


def test_the_dev_server_sends_the_backends_headers_and_proxies_api():
    """Reflex's own vite.config.js template gets the plugin; the plugin carries our headers."""
    from reflex_base.compiler.templates import vite_config_template

    from credits_app.api.security_headers import COMMON_HEADERS
    from credits_app.runtime.dev_server import (
        ReflexTemplateChanged,
        add_to_vite_config,
        vite_plugin_source,
    )

    rendered = vite_config_template(
        base="/", hmr=True, force_full_reload=False, experimental_hmr=False, sourcemap=False
    )
    patched = add_to_vite_config(rendered)
    source = vite_plugin_source()

    assert "creditsDevServer()," in patched and add_to_vite_config(patched) == patched
    assert json.loads(source.split("const HEADERS = ")[1].split(";\n")[0]) == COMMON_HEADERS
    assert "frame-ancestors 'none'" in source and '"^/api(?:[/?]|$)"' in source
    with pytest.raises(ReflexTemplateChanged):
        add_to_vite_config("export default {};\n")
