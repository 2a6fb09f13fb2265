"""/admin/reconcile: compare Stripe with the ledger, repair, and decide; 403 for non-admins."""

from __future__ import annotations

import reflex as rx

from credits_app import routes
from credits_app.components.admin import admin_only
from credits_app.components.layout import card, page_header, template
from credits_app.state.admin_reconcile import AdminReconcileState as S


def _controls() -> rx.Component:
    busy = S.running | (S.repairing != "")
    return card(
        rx.flex(
            rx.vstack(
                rx.text("Window (days back)", size="1", color_scheme="gray"),
                rx.input(
                    value=S.days,
                    on_change=S.set_days,
                    id="reconcile-days",
                    type="number",
                    min=1,
                    max=3660,
                    width="120px",
                ),
                spacing="1",
            ),
            rx.button(
                rx.cond(S.running, rx.spinner(size="2"), rx.icon("play", size=16)),
                rx.cond(S.running, "Running…", "Run"),
                on_click=S.run,
                disabled=busy,
                id="reconcile-run",
            ),
            rx.cond(
                S.repairable_count > 0,
                rx.button(
                    rx.cond(S.repairing == "all", rx.spinner(size="2"), rx.icon("wrench", size=16)),
                    "Repair all repairable (",
                    S.repairable_count,
                    ")",
                    on_click=S.repair_all,
                    disabled=busy,
                    color_scheme="green",
                    id="reconcile-repair-all",
                ),
            ),
            spacing="3",
            align="end",
            wrap="wrap",
        ),
        rx.text(
            "Runs the same comparison as `python -m credits_app reconcile`; repairs replay "
            "the webhook's exactly-once path, so they never grant twice.",
            size="1",
            color_scheme="gray",
        ),
    )


def _summary() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge(S.open_count, " open", color_scheme="red", size="2", id="reconcile-open"),
            rx.badge(S.repaired_count, " repaired", color_scheme="green", size="2"),
            rx.badge(S.decided_count, " decided", color_scheme="gray", size="2"),
            rx.text("since ", S.since, size="1", color_scheme="gray"),
            wrap="wrap",
            align="center",
        ),
        rx.text("Checked: ", S.checked, size="1", color_scheme="gray", id="reconcile-checked"),
        rx.cond(
            S.items.length() == 0,
            rx.callout.root(
                rx.callout.icon(rx.icon("circle-check")),
                rx.callout.text("No drift: the ledger agrees with Stripe."),
                color_scheme="green",
                id="reconcile-clean",
            ),
        ),
        rx.foreach(
            S.kinds,
            lambda k: rx.text(
                rx.code(k["kind"]), " (", k["count"], "): ", k["explanation"], size="2"
            ),
        ),
        spacing="2",
        width="100%",
    )


def _decision_form(row) -> rx.Component:
    return rx.form(
        rx.flex(
            rx.el.input(type="hidden", name="key", value=row["key"]),
            rx.el.select(
                rx.el.option("Accept (known and intended)", value="accept"),
                rx.cond(
                    row["can_claw_back"] != "",
                    rx.el.option("Claw back ", row["excess"], " credits", value="clawback"),
                ),
                name="decision",
                class_name="decision-choice",
            ),
            rx.input(
                name="reason",
                placeholder="Reason (required)",
                class_name="decision-reason",
                min_width="200px",
                flex="1",
            ),
            rx.button("Record decision", type="submit", size="1", class_name="decision-submit"),
            spacing="2",
            wrap="wrap",
            align="center",
            width="100%",
        ),
        on_submit=S.decide,
        reset_on_submit=False,
    )


def _drift_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.badge(row["kind"], color_scheme="orange"),
            rx.text(row["explanation"], size="1", color_scheme="gray"),
            max_width="260px",
        ),
        rx.table.cell(
            rx.link(
                rx.code(row["object"]),
                href=row["dashboard"],
                is_external=True,
                class_name="drift-object",
            ),
        ),
        rx.table.cell(
            rx.cond(
                row["user"] != "",
                rx.link(row["user"], href=row["user_url"], class_name="drift-user"),
                rx.text("—"),
            )
        ),
        rx.table.cell(
            rx.text(row["detail"], size="2"),
            rx.cond(
                row["decided"] != "",
                rx.text(row["decided"], size="1", color_scheme="gray", class_name="drift-decided"),
            ),
            rx.cond(row["can_decide"] != "", _decision_form(row)),
        ),
        rx.table.cell(
            rx.badge(
                row["status"],
                color_scheme=rx.match(
                    row["status"], ("open", "red"), ("repaired", "green"), "gray"
                ),
                class_name="drift-status",
            ),
            rx.cond(
                row["repairable"] != "",
                rx.button(
                    rx.cond(S.repairing == row["key"], rx.spinner(size="1"), "Repair"),
                    on_click=S.repair(row["key"]),
                    disabled=S.running | (S.repairing != ""),
                    size="1",
                    color_scheme="green",
                    class_name="drift-repair",
                ),
            ),
        ),
        class_name="drift-row",
        custom_attrs={"data-kind": row["kind"], "data-object": row["object"]},
    )


def _drift_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h)
                        for h in ("Kind", "Stripe object", "User", "What", "Status")
                    ]
                )
            ),
            rx.table.body(rx.foreach(S.items, _drift_row)),
            size="1",
        ),
        overflow_x="auto",
        width="100%",
        id="drift-table",
    )


def _history() -> rx.Component:
    return card(
        rx.heading("Decisions", size="4"),
        rx.text(
            "Every decision stays here, also once its drift is gone.", size="1", color_scheme="gray"
        ),
        rx.foreach(
            S.history,
            lambda d: rx.vstack(
                rx.text(rx.code(d["kind"]), " ", rx.code(d["object"]), " — ", d["now"], size="2"),
                rx.text(d["decided"], size="1", color_scheme="gray"),
                spacing="0",
                class_name="decision-history",
            ),
        ),
    )


def _messages() -> rx.Component:
    return rx.fragment(
        rx.cond(
            S.error != "",
            rx.callout.root(
                rx.callout.icon(rx.icon("circle-alert")),
                rx.callout.text(S.error),
                color_scheme="red",
                id="reconcile-error",
            ),
        ),
        rx.cond(
            S.message != "",
            rx.callout.root(
                rx.callout.icon(rx.icon("circle-check")),
                rx.callout.text(S.message),
                color_scheme="green",
                id="reconcile-message",
            ),
        ),
    )


def _admin_body() -> rx.Component:
    return rx.vstack(
        page_header(
            "Reconcile with Stripe",
            "What Stripe says was paid, refunded and disputed, against the ledger.",
        ),
        _controls(),
        _messages(),
        rx.cond(S.ran, card(_summary(), _drift_table())),
        rx.cond(S.history.length() > 0, _history()),
        spacing="4",
        width="100%",
    )


@template(routes.ADMIN_RECONCILE, "Admin: reconcile", on_load=[S.load])
def admin_reconcile_page() -> rx.Component:
    """The reconciliation page, or a 403 for non-admins."""
    return admin_only(routes.ADMIN_RECONCILE, _admin_body())
