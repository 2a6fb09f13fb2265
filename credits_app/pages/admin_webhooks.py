"""/admin/webhooks: every Stripe delivery and its outcome; admins re-apply failed ones."""

from __future__ import annotations

import reflex as rx

from credits_app import routes
from credits_app.components.admin import admin_only
from credits_app.components.layout import card, page_header, template
from credits_app.state.admin_webhooks import AdminWebhooksState

OUTCOMES = ("all", "applied", "duplicate", "ignored", "failed")
HEADERS = ("Received", "Type", "Event", "Object", "Outcome", "Error", "")


def _badge(outcome) -> rx.Component:
    color = rx.match(
        outcome,
        ("applied", "green"),
        ("duplicate", "gray"),
        ("ignored", "amber"),
        ("failed", "red"),
        "gray",
    )
    return rx.badge(outcome, color_scheme=color, class_name="outcome")


def _row(row) -> rx.Component:
    s = AdminWebhooksState
    reapply = rx.button(
        "Re-apply",
        size="1",
        on_click=s.reapply(row["id"]),
        loading=s.busy,
        id="reapply-" + row["id"],
        class_name="reapply",
        white_space="nowrap",
    )
    return rx.table.row(
        rx.table.cell(rx.text(row["at"], size="1", white_space="nowrap")),
        rx.table.cell(rx.code(row["type"], size="1")),
        rx.table.cell(rx.text(row["event_id"], size="1", class_name="event-id")),
        rx.table.cell(rx.text(row["object_id"], size="1")),
        rx.table.cell(
            _badge(row["outcome"]),
            rx.cond(row["note"] != "", rx.text(row["note"], size="1", color_scheme="gray")),
        ),
        rx.table.cell(rx.text(row["error"], size="1", color_scheme="red")),
        rx.table.cell(rx.cond(row["can_reapply"] != "", reapply)),
        id="delivery-" + row["id"],
        class_name="delivery",
    )


def _labelled(label: str, field: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), field, spacing="1")


def _filter_bar() -> rx.Component:
    s = AdminWebhooksState
    outcome = rx.select.root(
        rx.select.trigger(id="filter-outcome", width="130px"),
        rx.select.content(*[rx.select.item(o.capitalize(), value=o) for o in OUTCOMES]),
        name="outcome",
        default_value="all",
    )
    return rx.form(
        rx.flex(
            _labelled("Outcome", outcome),
            _labelled("Type", rx.input(name="event_type", id="filter-type", placeholder="invoice")),
            _labelled(
                "Event or object id",
                rx.input(name="search", id="filter-search", placeholder="evt_… or in_…"),
            ),
            _labelled("From (UTC)", rx.input(name="since", id="filter-since", type="date")),
            _labelled("To (UTC)", rx.input(name="until", id="filter-until", type="date")),
            rx.button("Filter", type="submit", id="filter-submit"),
            spacing="3",
            wrap="wrap",
            align="end",
        ),
        on_submit=s.apply_filters,
        reset_on_submit=False,
    )


def _callouts() -> rx.Component:
    s = AdminWebhooksState
    return rx.fragment(
        rx.cond(
            s.error != "",
            rx.callout(s.error, icon="circle-alert", color_scheme="red", id="webhooks-error"),
        ),
        rx.cond(
            s.message != "",
            rx.callout(
                s.message,
                icon=rx.cond(s.message_failed, "circle-alert", "circle-check"),
                color_scheme=rx.cond(s.message_failed, "red", "green"),
                id="reapply-message",
            ),
        ),
    )


def _table() -> rx.Component:
    s = AdminWebhooksState
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in HEADERS])),
            rx.table.body(rx.foreach(s.rows, _row)),
            size="1",
        ),
        rx.cond(
            s.rows.length() == 0,
            rx.text("No deliveries match.", color_scheme="gray", id="no-deliveries"),
        ),
        overflow_x="auto",
        width="100%",
        id="deliveries",
    )


def _paging() -> rx.Component:
    s = AdminWebhooksState
    return rx.hstack(
        rx.button("Newer", on_click=s.newer, disabled=s.page <= 1, variant="soft", id="newer"),
        rx.text("Page ", s.page, size="2", id="page-number"),
        rx.button("Older", on_click=s.older, disabled=~s.has_more, variant="soft", id="older"),
        align="center",
    )


def _admin_body() -> rx.Component:
    return rx.vstack(
        page_header(
            "Webhook deliveries",
            "Every signed Stripe delivery, newest first. Failed ones can be re-applied: "
            "an event is still applied once.",
        ),
        card(_filter_bar()),
        _callouts(),
        card(_table(), _paging()),
        spacing="4",
        width="100%",
    )


@template(routes.ADMIN_WEBHOOKS, "Admin: webhooks", on_load=[AdminWebhooksState.load])
def admin_webhooks_page() -> rx.Component:
    """The webhook log, or a 403 for non-admins."""
    return admin_only(routes.ADMIN_WEBHOOKS, _admin_body())
