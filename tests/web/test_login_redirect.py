"""After login, only same-site paths are followed: `?next=` is never an open redirect."""

from __future__ import annotations

import pytest

from credits_app import routes
from credits_app.state.auth import _safe_next


@pytest.mark.parametrize("target", ["/dashboard", "/admin/grant", "/credits?tab=plans"])
def test_a_page_of_this_site_is_followed(target):
    assert _safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        routes.LOGIN,
    ],
)
def test_anything_else_goes_to_the_dashboard(target):
    assert _safe_next(target) == routes.DASHBOARD
