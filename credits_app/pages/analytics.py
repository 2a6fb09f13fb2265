"""/analytics and /admin/analytics: usage and credit flows over a range of UTC days."""

from __future__ import annotations

import reflex as rx

from credits_app import routes
from credits_app.components.admin import admin_only, forbidden
from credits_app.components.charts import axes, bars_per_day, stacked_by_feature
from credits_app.components.layout import card, page_header, template
from credits_app.state.analytics import AdminAnalyticsState, AnalyticsState

# The flows an admin sees per day, with their colours.
ADMIN_FLOWS = (
    ("sold", "bought", "grass"),
    ("given", "given", "blue"),
    ("used", "used", "violet"),
    ("expired", "expired", "amber"),
    ("clawed back", "clawed_back", "crimson"),
)


def _range_form(state) -> rx.Component:
    """Two date inputs, Show, and presets; a readable error under them."""
    presets = [
        rx.button(f"{n} days", on_click=state.preset(n), variant="soft", size="1", type="button")
        for n in (7, 30, 90)
    ]
    form = rx.form(
        rx.hstack(
            rx.text("From", size="2"),
            rx.input(
                name="from",
                type="date",
                value=state.first,
                id="range-from",
                on_change=state.set_first,
            ),
            rx.text("to", size="2"),
            rx.input(
                name="to", type="date", value=state.last, id="range-to", on_change=state.set_last
            ),
            rx.button("Show", type="submit", id="range-show", size="2"),
            *presets,
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        on_submit=state.apply,
        reset_on_submit=False,
    )
    error = rx.cond(
        state.error != "",
        rx.callout(state.error, icon="triangle-alert", color_scheme="red", id="range-error"),
    )
    return card(form, error)


def _stat(label: str, value, ident: str) -> rx.Component:
    return card(
        rx.text(label, size="2", color_scheme="gray"),
        rx.heading(value, size="6", id=ident),
    )


def _usage_chart() -> rx.Component:
    s = AnalyticsState
    chart = stacked_by_feature(s.usage_chart, s.features, y_width=48)
    return card(
        rx.heading("Credits used per day, by feature", size="4"),
        rx.cond(s.used > 0, chart, rx.text("Nothing used in this range.", color_scheme="gray")),
        id="usage-chart",
    )


def _bought_vs_used(state, bought_label: str) -> rx.Component:
    series = [("bought", bought_label, "grass"), ("used", "used", "violet")]
    return card(
        rx.heading(f"Credits {bought_label} and used", size="4"),
        bars_per_day(state.flows, series),
        id="bought-used-chart",
    )


def _feature_table() -> rx.Component:
    row = lambda r: rx.table.row(  # noqa: E731
        rx.table.cell(r["feature"]),
        rx.table.cell(r["credits"]),
        rx.table.cell(r["uses"]),
        rx.table.cell(r["share"]),
    )
    return card(
        rx.heading("Top features", size="4"),
        rx.cond(
            AnalyticsState.by_feature,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("Feature", "Credits", "Uses", "Share")
                        ]
                    )
                ),
                rx.table.body(rx.foreach(AnalyticsState.by_feature, row)),
                width="100%",
            ),
            rx.text("No usage in this range.", color_scheme="gray", size="2"),
        ),
        id="feature-table",
    )


@template(routes.ANALYTICS, "Usage analytics", on_load=[AnalyticsState.load])
def analytics_page() -> rx.Component:
    """A user's usage and credit flows over a range."""
    s = AnalyticsState
    return rx.vstack(
        page_header("Usage analytics", "What you used, per day and feature (UTC days)."),
        _range_form(s),
        rx.grid(
            _stat("Credits used", s.used, "stat-used"),
            _stat("Uses", s.uses, "stat-uses"),
            _stat("Credits bought", s.totals["bought"], "stat-bought"),
            _stat("Credits expired", s.totals["expired"], "stat-expired"),
            columns=rx.breakpoints(initial="2", md="4"),
            spacing="3",
            width="100%",
        ),
        _usage_chart(),
        _bought_vs_used(s, "bought"),
        _feature_table(),
        spacing="4",
        width="100%",
    )


def _admin_table() -> rx.Component:
    s = AdminAnalyticsState
    headers = ["Day", *(label.capitalize() for label, _, _ in ADMIN_FLOWS), "Outstanding"]
    row = lambda r: rx.table.row(  # noqa: E731
        rx.table.cell(r["date"]),
        *[rx.table.cell(r[key]) for _, key, _ in ADMIN_FLOWS],
        rx.table.cell(r["outstanding"]),
    )
    return card(
        rx.heading("Per day", size="4"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(s.flows, row)),
            width="100%",
        ),
        id="admin-flow-table",
    )


def _admin_chart() -> rx.Component:
    s = AdminAnalyticsState
    chart = rx.recharts.composed_chart(
        *axes(56),
        *[
            rx.recharts.bar(data_key=key, name=label, fill=rx.color(color, 9))
            for label, key, color in ADMIN_FLOWS
        ],
        rx.recharts.line(
            data_key="outstanding", name="outstanding", stroke=rx.color("gray", 11), dot=False
        ),
        data=s.flows,
        width="100%",
        height=300,
    )
    return card(rx.heading("Credits per day", size="4"), chart, id="admin-flow-chart")


def _admin_body() -> rx.Component:
    s = AdminAnalyticsState
    return rx.cond(
        s.forbidden,
        forbidden(),
        rx.vstack(
            page_header("Analytics", "Every account's credits per UTC day."),
            _range_form(s),
            rx.grid(
                _stat("Sold", s.totals["bought"], "stat-sold"),
                _stat("Given", s.totals["given"], "stat-given"),
                _stat("Used", s.totals["used"], "stat-used"),
                _stat("Expired", s.totals["expired"], "stat-expired"),
                _stat("Clawed back", s.totals["clawed_back"], "stat-clawed-back"),
                _stat("Outstanding", s.outstanding, "stat-outstanding"),
                columns=rx.breakpoints(initial="2", md="3", lg="6"),
                spacing="3",
                width="100%",
            ),
            _admin_chart(),
            _admin_table(),
            spacing="4",
            width="100%",
        ),
    )


@template(routes.ADMIN_ANALYTICS, "Admin: analytics", on_load=[AdminAnalyticsState.load])
def admin_analytics_page() -> rx.Component:
    """Everyone's credit flows, or a 403 for non-admins."""
    return admin_only(routes.ADMIN_ANALYTICS, _admin_body())
