"""/dashboard: balance, plan, credits by lot, 30-day chart, usage and ledger, CSV export."""

from __future__ import annotations

import reflex as rx

from credits_app import routes
from credits_app.components.charts import stacked_by_feature
from credits_app.components.layout import card, loading, page_header, template
from credits_app.components.live_refresh import on_balance_change
from credits_app.live.balance import LiveBalance
from credits_app.state.dashboard import DashboardState


def _stat(label: str, value, sub=None, **props) -> rx.Component:
    return card(
        rx.text(label, size="2", color_scheme="gray"),
        rx.heading(value, size="8", **props),
        sub if sub is not None else rx.fragment(),
        height="100%",
    )


def _plan_card() -> rx.Component:
    plan = DashboardState.plan
    manage = rx.button(
        "Manage subscription",
        on_click=DashboardState.manage_subscription,
        loading=DashboardState.opening_portal,
        variant="soft",
        id="manage-subscription",
    )
    has_plan = rx.vstack(
        rx.hstack(
            rx.heading(plan["name"], size="6"),
            rx.badge(plan["status"], color_scheme=rx.cond(plan["ok"] == "yes", "grass", "orange")),
            align="center",
        ),
        rx.text(plan["credits"], color_scheme="gray", size="2"),
        rx.text(plan["renewal"], size="2"),
        manage,
        spacing="2",
    )
    no_plan = rx.vstack(
        rx.heading("No plan", size="6"),
        rx.text("Buy a pack or subscribe for monthly credits.", color_scheme="gray", size="2"),
        rx.hstack(
            rx.link(rx.button("See plans"), href=routes.CREDITS),
            manage,
            wrap="wrap",
        ),
        spacing="2",
    )
    return card(
        rx.text("Plan", size="2", color_scheme="gray"),
        rx.cond(plan.contains("name"), has_plan, no_plan),
        height="100%",
    )


def _chart() -> rx.Component:
    chart = stacked_by_feature(DashboardState.chart, DashboardState.features)
    return card(
        rx.hstack(
            rx.heading("Credits spent per day", size="4"),
            rx.spacer(),
            rx.text("last 30 days: ", rx.text.strong(DashboardState.spent_30d), size="2"),
            width="100%",
        ),
        rx.cond(
            DashboardState.spent_30d > 0,
            chart,
            rx.text("Nothing spent in the last 30 days.", color_scheme="gray", size="2"),
        ),
        id="spend-chart",
    )


def _pager(page, more, newer, older, name: str) -> rx.Component:
    return rx.hstack(
        rx.button("Newer", on_click=newer, disabled=page == 0, variant="soft", size="1"),
        rx.text("Page ", page + 1, size="1", color_scheme="gray"),
        rx.button(
            "Older", on_click=older, disabled=~more, variant="soft", size="1", id=f"{name}-older"
        ),
        justify="end",
        align="center",
        width="100%",
    )


def _table(headers: list[str], rows, render) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(rows, render)),
            size="1",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def _ledger_row(row) -> rx.Component:
    color = rx.match(row["sign"], ("up", "grass"), ("down", "tomato"), "gray")
    return rx.table.row(
        rx.table.cell(
            rx.text(row["what"], weight="medium"),
            rx.text(row["reason"], size="1", color_scheme="gray"),
        ),
        rx.table.cell(rx.text(row["delta"], color_scheme=color, weight="bold")),
        rx.table.cell(row["balance"]),
        rx.table.cell(rx.text(row["at"], size="1", white_space="nowrap")),
    )


def _usage_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(row["feature"])),
        rx.table.cell(row["credits"]),
        rx.table.cell(rx.text(row["at"], size="1", white_space="nowrap")),
    )


def _history() -> rx.Component:
    s = DashboardState
    ledger = card(
        rx.hstack(
            rx.heading("Ledger", size="4"),
            rx.spacer(),
            rx.button(
                rx.icon("download", size=14),
                "Export CSV",
                on_click=s.export_csv,
                size="1",
                variant="outline",
                id="export-csv",
            ),
            width="100%",
        ),
        rx.cond(
            s.ledger.length() > 0,
            _table(["What", "Credits", "Balance", "When"], s.ledger, _ledger_row),
            rx.text("No entries yet.", color_scheme="gray", size="2"),
        ),
        _pager(s.ledger_page, s.ledger_more, s.ledger_newer, s.ledger_older, "ledger"),
        id="ledger",
    )
    usage = card(
        rx.heading("Usage", size="4"),
        rx.cond(
            s.usage.length() > 0,
            _table(["Feature", "Credits", "When"], s.usage, _usage_row),
            rx.text("No usage yet. Try the example AI.", color_scheme="gray", size="2"),
        ),
        _pager(s.usage_page, s.usage_more, s.usage_newer, s.usage_older, "usage"),
        id="usage",
    )
    return rx.grid(
        ledger, usage, columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%"
    )


def _lot_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.text("#", row["id"], " ", row["what"], weight="medium"),
            rx.cond(row["starts"] != "", rx.text(row["starts"], size="1", color_scheme="gray")),
        ),
        rx.table.cell(row["remaining"]),
        rx.table.cell(
            rx.badge(
                row["category"],
                color_scheme=rx.cond(row["category"] == "Promotional", "violet", "gray"),
            )
        ),
        rx.table.cell(
            rx.text(
                row["expires"],
                color_scheme=rx.cond(row["soon"] == "yes", "orange", "gray"),
                weight=rx.cond(row["soon"] == "yes", "bold", "regular"),
                white_space="nowrap",
            )
        ),
    )


def _lots() -> rx.Component:
    s = DashboardState
    return card(
        rx.hstack(
            rx.heading("Credits by lot", size="4"),
            rx.spacer(),
            rx.cond(
                s.next_expiry != "",
                rx.text(s.next_expiry, size="2", id="next-expiry"),
                rx.text("None of your credits expire.", size="2", color_scheme="gray"),
            ),
            width="100%",
            wrap="wrap",
        ),
        rx.cond(
            s.lots.length() > 0,
            _table(["Lot", "Credits left", "Category", "Expires"], s.lots, _lot_row),
            rx.text("No credits yet.", color_scheme="gray", size="2"),
        ),
        rx.cond(
            s.lots_hidden > 0,
            rx.text("and ", s.lots_hidden, " more lots, spent after these.", size="1"),
        ),
        rx.text(
            "Credits are spent from the lot listed first: the soonest to expire, "
            "promotional before paid.",
            size="1",
            color_scheme="gray",
        ),
        id="lots",
    )


def _expiry_banner() -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("hourglass")),
        rx.callout.text(DashboardState.expiry_banner),
        color_scheme="orange",
        width="100%",
        id="expiry-banner",
    )


def _body() -> rx.Component:
    balance_sub = rx.text(LiveBalance.available, " available now", size="2", color_scheme="gray")
    top = rx.grid(
        _stat("Balance", LiveBalance.balance, balance_sub, id="dashboard-balance"),
        _plan_card(),
        columns=rx.breakpoints(initial="1", sm="2"),
        spacing="4",
        width="100%",
    )
    return rx.vstack(
        rx.cond(DashboardState.expiry_banner != "", _expiry_banner()),
        top,
        _lots(),
        _chart(),
        _history(),
        on_balance_change(DashboardState.refresh),
        spacing="4",
        width="100%",
    )


@template(routes.DASHBOARD, "Dashboard", on_load=[DashboardState.load])
def dashboard_page() -> rx.Component:
    """Everything about the user's credits on one page."""
    return rx.vstack(
        page_header("Dashboard", "Your balance updates live on every open tab."),
        rx.cond(DashboardState.loaded, _body(), loading()),
        width="100%",
    )
