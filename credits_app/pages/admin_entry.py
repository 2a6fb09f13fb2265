"""/admin/entries/[entry_id]: where one ledger entry came from, as `explain ENTRY_ID` says.

The record is `observability.provenance.explain_entry`'s (the CLI's), shown in one place:
the entry, its user, the Stripe objects with their Dashboard pages and the events about
them, the admin who granted it, the hold or AI run, and the lots it created or moved.
"""

from __future__ import annotations

import reflex as rx

from credits_app import routes
from credits_app.components.admin import admin_only
from credits_app.components.layout import card, loading, template
from credits_app.pages.admin_users import external, muted, table
from credits_app.state.admin_users import AdminEntryState


def _fact(row) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(row["label"]),
        rx.data_list.value(rx.text(row["value"], word_break="break-all")),
    )


def _facts(rows, **props) -> rx.Component:
    return rx.data_list.root(rx.foreach(rows, _fact), size="2", **props)


def _stripe_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["kind"]),
        rx.table.cell(external(row["id"], row["url"])),
    )


def _event_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(row["id"])),
        rx.table.cell(row["type"]),
        rx.table.cell(row["outcome"]),
        rx.table.cell(rx.text(row["at"], size="1", white_space="nowrap")),
    )


def _stripe() -> rx.Component:
    s = AdminEntryState
    events = rx.cond(
        s.events.length() > 0,
        table(["Event", "Type", "Outcome", "Processed"], s.events, _event_row),
        muted(
            "No stored events about these objects (events processed before migration 0011 "
            "did not record their object)."
        ),
    )
    return card(
        rx.heading("Stripe", size="4"),
        muted("Dashboard links open the ", s.stripe_mode, "-mode Dashboard."),
        table(["Object", "Id"], s.stripe, _stripe_row, id="entry-stripe"),
        rx.cond(s.money != "", rx.text(s.money, size="2", id="entry-money")),
        rx.heading("Events", size="3"),
        rx.box(events, id="entry-events", width="100%"),
    )


def _granted() -> rx.Component:
    s = AdminEntryState
    admin = rx.cond(
        s.granted_href != "",
        rx.link(s.granted_email, href=s.granted_href, id="entry-admin"),
        muted("no admin recorded"),
    )
    return card(
        rx.heading("Granted by", size="4"),
        rx.hstack(admin, muted("via ", s.granted_via), align="center", wrap="wrap"),
        id="entry-granted",
    )


def _move_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell("#", row["id"]),
        rx.table.cell(row["category"]),
        rx.table.cell(row["amount"]),
    )


def _created_row(row) -> rx.Component:
    return rx.table.row(rx.table.cell("#", row["id"]), rx.table.cell(row["text"]))


def _lots() -> rx.Component:
    s = AdminEntryState
    return card(
        rx.heading("Lots", size="4"),
        rx.cond(
            s.lots_created.length() > 0,
            rx.vstack(
                rx.text("Created", weight="medium", size="2"),
                table(["Lot", "Now"], s.lots_created, _created_row),
                width="100%",
            ),
        ),
        rx.cond(
            s.lots_moved.length() > 0,
            rx.vstack(
                rx.text("Moved by this entry", weight="medium", size="2"),
                table(["Lot", "Category", "Credits"], s.lots_moved, _move_row),
                width="100%",
            ),
        ),
        rx.cond(
            s.hold_lots.length() > 0,
            rx.vstack(
                rx.text("Taken by the hold in all", weight="medium", size="2"),
                table(["Lot", "Category", "Credits"], s.hold_lots, _move_row),
                width="100%",
            ),
        ),
        rx.cond(
            (s.lots_created.length() + s.lots_moved.length() + s.hold_lots.length()) == 0,
            muted("This entry created or moved no lot."),
        ),
        id="entry-lots",
    )


def _found() -> rx.Component:
    s = AdminEntryState
    user = rx.cond(
        s.user_href != "",
        rx.hstack(
            muted("User"),
            rx.link(s.user_email, href=s.user_href, id="entry-user"),
            align="center",
        ),
    )
    return rx.vstack(
        rx.vstack(
            rx.heading("Entry #", s.number, ": ", s.label, size="7", id="entry-title"),
            user,
            spacing="1",
        ),
        card(_facts(s.facts), id="entry-facts"),
        rx.cond(s.stripe.length() > 0, _stripe()),
        rx.cond(s.granted_via != "", _granted()),
        rx.cond(
            s.hold.length() > 0,
            card(rx.heading("Hold", size="4"), _facts(s.hold), id="entry-hold"),
        ),
        _lots(),
        muted("The same record: python -m credits_app explain ", s.number),
        spacing="4",
        width="100%",
    )


def _body() -> rx.Component:
    s = AdminEntryState
    missing = card(
        rx.heading(s.missing, size="5", id="entry-missing"),
        rx.link("Find a user", href=routes.ADMIN_USERS),
    )
    return rx.cond(s.loaded, rx.cond(s.missing != "", missing, _found()), loading())


@template(routes.ADMIN_ENTRY, "Admin: ledger entry", on_load=[AdminEntryState.load])
def admin_entry_page() -> rx.Component:
    """The trace of one ledger entry, or a 403 for non-admins."""
    return admin_only(routes.ADMIN_USERS, _body())
