"""/admin/grant: admins grant credits; everyone else sees a 403 page."""

from __future__ import annotations

import reflex as rx

from credits_app import routes
from credits_app.components.admin import admin_only
from credits_app.components.layout import card, page_header, template
from credits_app.state.admin import AdminGrantState


def _ledger_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(row["what"], href=row["href"]),
            rx.text(row["reason"], size="1", color_scheme="gray"),
        ),
        rx.table.cell(row["delta"]),
        rx.table.cell(row["by"]),
        rx.table.cell(rx.text(row["at"], size="1", white_space="nowrap")),
    )


def _confirm() -> rx.Component:
    s = AdminGrantState
    return rx.callout.root(
        rx.callout.icon(rx.icon("shield-alert")),
        rx.callout.text(
            "Grant ",
            rx.text.strong(s.amount),
            " credits to ",
            s.found_email,
            "? This is above the confirmation threshold.",
        ),
        rx.hstack(
            rx.button("Yes, grant", on_click=s.confirm, color_scheme="red", id="confirm-grant"),
            rx.button("Cancel", on_click=s.cancel, variant="soft"),
        ),
        color_scheme="amber",
        id="confirm-box",
    )


def _lot_fields() -> rx.Component:
    """The lot's category and its optional expiry (a UTC date and time)."""
    category = rx.select.root(
        rx.select.trigger(id="grant-category", width="100%"),
        rx.select.content(
            rx.select.item("Paid", value="paid"),
            rx.select.item("Promotional", value="promotional"),
        ),
        name="category",
        default_value="paid",
    )
    expires = rx.input(
        name="expires_at",
        id="grant-expires",
        type="datetime-local",
        width="100%",
    )
    return rx.flex(
        rx.vstack(rx.text("Category", size="1", color_scheme="gray"), category, spacing="1"),
        rx.vstack(
            rx.text("Expires (UTC, optional: empty = never)", size="1", color_scheme="gray"),
            expires,
            spacing="1",
            min_width="240px",
        ),
        spacing="3",
        wrap="wrap",
        width="100%",
    )


def _user_panel() -> rx.Component:
    s = AdminGrantState
    grant_form = rx.form(
        rx.vstack(
            rx.flex(
                rx.input(
                    name="amount",
                    id="grant-amount",
                    placeholder="Credits",
                    type="number",
                    min=1,
                    required=True,
                    width=["100%", "140px"],
                ),
                rx.input(
                    name="reason",
                    id="grant-reason",
                    placeholder="Reason (shown in their ledger)",
                    required=True,
                    flex="1",
                    min_width="200px",
                ),
                rx.button("Grant credits", type="submit", id="grant-submit"),
                spacing="2",
                wrap="wrap",
                width="100%",
            ),
            _lot_fields(),
            spacing="2",
            width="100%",
        ),
        on_submit=s.grant,
        reset_on_submit=False,
    )
    error = rx.callout.root(
        rx.callout.icon(rx.icon("circle-alert")),
        rx.callout.text(s.error),
        color_scheme="red",
        id="grant-error",
    )
    return card(
        rx.hstack(
            rx.link(rx.heading(s.found_email, size="5", id="found-user"), href=s.found_href),
            rx.spacer(),
            rx.badge(s.found_balance, " credits", size="2", id="found-balance"),
            width="100%",
            wrap="wrap",
        ),
        grant_form,
        rx.cond(s.error != "", error),
        rx.cond(s.confirming, _confirm()),
        rx.heading("Recent ledger", size="3"),
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h) for h in ("What", "Credits", "By", "When")]
                    )
                ),
                rx.table.body(rx.foreach(s.ledger, _ledger_row)),
                size="1",
            ),
            overflow_x="auto",
            width="100%",
            id="admin-ledger",
        ),
    )


def _admin_body() -> rx.Component:
    s = AdminGrantState
    search = rx.form(
        rx.hstack(
            rx.input(
                name="email",
                id="find-email",
                placeholder="user@example.com",
                type="email",
                required=True,
                flex="1",
            ),
            rx.button("Find user", type="submit", id="find-user"),
            width="100%",
        ),
        on_submit=s.find,
        reset_on_submit=False,
    )
    return rx.vstack(
        page_header("Grant credits", "Every grant records you as the admin who made it."),
        card(search),
        rx.cond(s.found_email != "", _user_panel()),
        spacing="4",
        width="100%",
    )


@template(routes.ADMIN_GRANT, "Admin: grant credits", on_load=[AdminGrantState.prefill])
def admin_grant_page() -> rx.Component:
    """The grant tool, or a 403 for non-admins."""
    return admin_only(routes.ADMIN_GRANT, _admin_body())
