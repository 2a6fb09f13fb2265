"""/admin/users and /admin/users/[user_id]: find a user; one user's credits, money and ledger.

Admins only (`admin_only`: everyone else sees the 403 page, and the state reads nothing for
them). Each ledger row, and each purchase, refund or dispute, links to its entry's trace.
"""

from __future__ import annotations

import reflex as rx

from credits_app import routes
from credits_app.components.admin import admin_only
from credits_app.components.layout import card, loading, page_header, template
from credits_app.state.admin_users import AdminUsersState, AdminUserState


def table(headers: list[str], rows, render, **props) -> rx.Component:
    """A small table that scrolls sideways on narrow screens."""
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(rows, render)),
            size="1",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
        **props,
    )


def pager(page, more, newer, older, name: str) -> rx.Component:
    """Newer / page number / Older."""
    return rx.hstack(
        rx.button(
            "Newer",
            on_click=newer,
            disabled=page == 0,
            variant="soft",
            size="1",
            id=f"{name}-newer",
        ),
        rx.text("Page ", page + 1, size="1", color_scheme="gray"),
        rx.button(
            "Older", on_click=older, disabled=~more, variant="soft", size="1", id=f"{name}-older"
        ),
        justify="end",
        align="center",
        width="100%",
    )


def muted(*children, **props) -> rx.Component:
    """Small grey text."""
    return rx.text(*children, size="1", color_scheme="gray", **props)


def external(text, href) -> rx.Component:
    """A link to the Stripe Dashboard (a new tab)."""
    return rx.link(
        rx.code(text, word_break="break-all"),
        rx.icon("external-link", size=12, flex_shrink="0"),
        href=href,
        is_external=True,
        size="1",
        display="inline-flex",
        align_items="center",
        gap="0.25em",
    )


# /admin/users ---------------------------------------------------------------------------


def _user_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(row["email"], href=row["href"], weight="medium"),
            rx.cond(row["exact"] == "yes", rx.badge("id match", size="1", margin_left="0.5em")),
        ),
        rx.table.cell(muted(row["id"])),
        rx.table.cell(
            row["balance"],
            rx.cond(row["available"] != row["balance"], muted(row["available"], " available")),
        ),
        rx.table.cell(
            rx.hstack(
                rx.cond(row["admin"] == "yes", rx.badge("admin", color_scheme="red", size="1")),
                rx.cond(
                    row["verified"] == "yes",
                    rx.badge("verified", color_scheme="grass", size="1"),
                    rx.badge("unverified", color_scheme="orange", size="1"),
                ),
                spacing="1",
            )
        ),
        rx.table.cell(rx.text(row["created"], size="1", white_space="nowrap")),
    )


def _users_body() -> rx.Component:
    s = AdminUsersState
    search = rx.form(
        rx.hstack(
            rx.input(
                name="query",
                id="user-query",
                placeholder="Email (any part) or user id",
                flex="1",
                max_length=320,
            ),
            rx.button("Search", type="submit", id="user-search"),
            width="100%",
        ),
        on_submit=s.search,
        reset_on_submit=False,
    )
    results = card(
        rx.cond(
            s.error != "",
            rx.callout.root(
                rx.callout.icon(rx.icon("circle-alert")),
                rx.callout.text(s.error),
                color_scheme="red",
                id="users-error",
            ),
        ),
        rx.cond(
            s.rows.length() > 0,
            table(["Email", "Id", "Credits", "Flags", "Created"], s.rows, _user_row),
            rx.cond(s.error == "", rx.text("No users match.", color_scheme="gray", size="2")),
        ),
        pager(s.page, s.more, s.newer, s.older, "users"),
        id="users",
    )
    return rx.vstack(
        page_header("Users", "Newest first. Open a user for their credits, payments and ledger."),
        card(search),
        rx.cond(s.loaded, results, loading()),
        spacing="4",
        width="100%",
    )


@template(routes.ADMIN_USERS, "Admin: users", on_load=[AdminUsersState.load])
def admin_users_page() -> rx.Component:
    """The user search, or a 403 for non-admins."""
    return admin_only(routes.ADMIN_USERS, _users_body())


# /admin/users/[user_id] -----------------------------------------------------------------


def _stat(label: str, value, name: str) -> rx.Component:
    return card(
        rx.text(label, size="2", color_scheme="gray"),
        rx.heading(value, size="7", id=f"user-{name}"),
    )


def _balances() -> rx.Component:
    b = AdminUserState.balance
    return rx.grid(
        _stat("Balance", b["balance"], "balance"),
        _stat("Available", b["available"], "available"),
        _stat("Held", b["held"], "held"),
        _stat("Debt", b["debt"], "debt"),
        columns=rx.breakpoints(initial="2", md="4"),
        spacing="3",
        width="100%",
    )


def _lot_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text("#", row["id"], " ", row["what"])),
        rx.table.cell(row["remaining"], muted(" of ", row["amount"], as_="span")),
        rx.table.cell(row["category"]),
        rx.table.cell(rx.text(row["starts"], size="1", white_space="nowrap")),
        rx.table.cell(rx.text(row["expires"], size="1", white_space="nowrap")),
    )


def _lots() -> rx.Component:
    s = AdminUserState
    return card(
        rx.heading("Lots with credits left", size="4"),
        rx.cond(
            s.lots.length() > 0,
            table(["Lot", "Left", "Category", "Effective", "Expires"], s.lots, _lot_row),
            rx.text("No credits left in any lot.", color_scheme="gray", size="2"),
        ),
        rx.cond(s.lots_hidden > 0, muted("and ", s.lots_hidden, " more, spent after these.")),
        muted("In burn order: credits are spent from the lot listed first."),
        id="user-lots",
    )


def _subscription_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["plan"], weight="medium"), muted(row["credits"])),
        rx.table.cell(rx.badge(row["status"])),
        rx.table.cell(rx.text(row["period_end"], size="1", white_space="nowrap")),
        rx.table.cell(rx.cond(row["cancel"] == "yes", "yes", "no")),
        rx.table.cell(external(row["id"], row["url"])),
    )


def _subscriptions() -> rx.Component:
    s = AdminUserState
    customer = rx.cond(
        s.user["customer"] != "",
        rx.hstack(
            muted("Stripe customer"),
            external(s.user["customer"], s.user["customer_url"]),
            align="center",
        ),
        muted("No Stripe customer yet."),
    )
    return card(
        rx.heading("Subscription", size="4"),
        customer,
        rx.cond(
            s.subscriptions.length() > 0,
            table(
                ["Plan", "Status", "Period ends", "Cancels at period end", "Stripe"],
                s.subscriptions,
                _subscription_row,
            ),
            rx.text("No subscription.", color_scheme="gray", size="2"),
        ),
        rx.cond(s.subscriptions_hidden > 0, muted("and ", s.subscriptions_hidden, " older.")),
        id="user-subscriptions",
    )


def _payment_row(row) -> rx.Component:
    is_purchase = row["kind"] == "purchase"
    return rx.table.row(
        rx.table.cell(
            rx.text(row["what"], weight=rx.cond(is_purchase, "medium", "regular")),
            padding_left=rx.cond(is_purchase, "0.5em", "1.5em"),
        ),
        rx.table.cell(
            external(row["id"], row["url"]),
            rx.cond(row["detail"] != "", rx.box(external(row["detail"], row["detail_url"]))),
        ),
        rx.table.cell(row["money"]),
        rx.table.cell(row["credits"]),
        rx.table.cell(
            rx.cond(
                row["entry"] != "",
                rx.link(row["entries"], href=row["entry"], size="1"),
                muted("—"),
            )
        ),
        rx.table.cell(rx.text(row["at"], size="1", white_space="nowrap")),
    )


def _payments() -> rx.Component:
    s = AdminUserState
    return card(
        rx.heading("Payments", size="4"),
        rx.cond(
            s.payments.length() > 0,
            table(
                ["What", "Stripe", "Money", "Credits", "Ledger", "When"],
                s.payments,
                _payment_row,
            ),
            rx.text("No payments.", color_scheme="gray", size="2"),
        ),
        rx.cond(s.payments_hidden > 0, muted("and ", s.payments_hidden, " older purchases.")),
        muted("Refunds and disputes are listed under the purchase they took credits from."),
        id="user-payments",
    )


def _hold_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.cond(
                row["href"] != "",
                rx.link("#", row["id"], " ", row["what"], href=row["href"]),
                rx.text("#", row["id"], " ", row["what"]),
            )
        ),
        rx.table.cell(rx.code(row["feature"])),
        rx.table.cell(row["amount"]),
        rx.table.cell(rx.text(row["created"], size="1", white_space="nowrap")),
        rx.table.cell(rx.text(row["expires"], size="1", white_space="nowrap")),
    )


def _holds() -> rx.Component:
    s = AdminUserState
    return card(
        rx.heading("Active holds", size="4"),
        rx.cond(
            s.holds.length() > 0,
            table(["Hold", "Feature", "Reserved", "Since", "Expires"], s.holds, _hold_row),
            rx.text("No active holds.", color_scheme="gray", size="2"),
        ),
        id="user-holds",
    )


def _ledger_row(row) -> rx.Component:
    color = rx.match(row["sign"], ("up", "grass"), ("down", "tomato"), "gray")
    return rx.table.row(
        rx.table.cell(
            rx.link(row["what"], href=row["href"], weight="medium"),
            muted(row["reason"], overflow_wrap="anywhere"),
        ),
        rx.table.cell(rx.text(row["delta"], color_scheme=color, weight="bold")),
        rx.table.cell(row["balance"]),
        rx.table.cell(rx.text(row["by"], size="1")),
        rx.table.cell(rx.text(row["at"], size="1", white_space="nowrap")),
        rx.table.cell(muted("#", row["id"])),
    )


def _ledger() -> rx.Component:
    s = AdminUserState
    return card(
        rx.heading("Ledger", size="4"),
        muted("Open an entry to see where it came from."),
        rx.cond(
            s.ledger.length() > 0,
            table(
                ["What", "Credits", "Balance", "By", "When", "Entry"],
                s.ledger,
                _ledger_row,
            ),
            rx.text("No entries yet.", color_scheme="gray", size="2"),
        ),
        pager(s.ledger_page, s.ledger_more, s.ledger_newer, s.ledger_older, "ledger"),
        id="user-ledger",
    )


def _user_header() -> rx.Component:
    u = AdminUserState.user
    return rx.vstack(
        rx.hstack(
            rx.heading(u["email"], size="7", id="user-email"),
            rx.cond(u["admin"] == "yes", rx.badge("admin", color_scheme="red")),
            rx.cond(
                u["verified"] == "yes",
                rx.badge("verified", color_scheme="grass"),
                rx.badge("unverified", color_scheme="orange"),
            ),
            align="center",
            wrap="wrap",
        ),
        rx.hstack(
            muted("User ", u["id"], " · registered ", u["created"], " · Stripe ", u["mode"]),
            rx.spacer(),
            rx.link(
                rx.button(rx.icon("gift", size=14), "Grant credits", size="1", variant="soft"),
                href=u["grant"],
                id="user-grant",
            ),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        width="100%",
        spacing="1",
    )


def _user_body() -> rx.Component:
    s = AdminUserState
    found = rx.vstack(
        _user_header(),
        _balances(),
        rx.grid(
            _lots(),
            _subscriptions(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        _payments(),
        _holds(),
        _ledger(),
        spacing="4",
        width="100%",
    )
    missing = card(
        rx.heading(s.missing, size="5", id="user-missing"),
        rx.link("Find a user", href=routes.ADMIN_USERS),
    )
    return rx.cond(s.loaded, rx.cond(s.missing != "", missing, found), loading())


@template(routes.ADMIN_USER, "Admin: user", on_load=[AdminUserState.load])
def admin_user_page() -> rx.Component:
    """One user's page, or a 403 for non-admins."""
    return admin_only(routes.ADMIN_USERS, _user_body())
