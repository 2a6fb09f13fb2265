"""/example-ai: see the cost, run the example feature, watch the output stream and the charge."""

from __future__ import annotations

import reflex as rx

from credits_app import routes
from credits_app.components.layout import card, page_header, template
from credits_app.live.balance import LiveBalance
from credits_app.services.ai import EXAMPLE_FEATURE, PRICES
from credits_app.state.example_ai import ExampleAIState

S = ExampleAIState
_PRICE = PRICES[EXAMPLE_FEATURE]
PRICE_NOTE = (
    f"{_PRICE.credits_per_100_words} credits per 100 words (text + output, at least "
    f"{_PRICE.minimum}); the output stops at {_PRICE.max_output_words} words, so the estimate "
    "is the most it can cost. It is reserved first; only the output you get is charged, so a "
    "run that fails or is left part-way pays for the part shown, and one that showed nothing "
    "costs nothing."
)


def _short_of_credits() -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("wallet")),
        rx.callout.text(S.error),
        rx.callout.text(rx.link("Buy credits →", href=routes.CREDITS, weight="bold")),
        color_scheme="orange",
        id="insufficient",
    )


def _problem() -> rx.Component:
    return rx.cond(
        S.short_of_credits,
        _short_of_credits(),
        rx.cond(
            S.error != "",
            rx.callout(S.error, icon="triangle-alert", color_scheme="red", id="ai-error"),
        ),
    )


def _costs() -> rx.Component:
    return rx.flex(
        rx.badge("Estimate: up to ", S.estimate, " credits", size="2", id="estimate"),
        rx.cond(
            S.reserved > 0,
            rx.badge("Reserved ", S.reserved, size="2", color_scheme="amber", id="reserved"),
        ),
        rx.cond(
            S.final_cost >= 0,
            rx.badge(
                "Charged ",
                S.final_cost,
                " credits",
                size="2",
                color_scheme="grass",
                id="final-cost",
            ),
        ),
        wrap="wrap",
        spacing="2",
    )


def _form() -> rx.Component:
    # A form, so the click submits the text box's own value: whatever was typed or pasted
    # a moment ago is what runs, even before the debounced `set_prompt` reaches the state.
    label = rx.cond(S.local_provider, "Text to analyse", "Prompt")
    return card(
        rx.form(
            rx.vstack(
                rx.text(label, as_="label", html_for="prompt", weight="medium", size="2"),
                rx.text_area(
                    name="prompt",
                    value=S.prompt,
                    on_change=S.set_prompt.debounce(250),
                    placeholder=rx.cond(S.local_provider, "Paste a paragraph…", "Ask something…"),
                    rows="6",
                    resize="vertical",
                    width="100%",
                    id="prompt",
                ),
                # The key as rendered when the button was pressed: a double-click's two
                # submits carry the same one, so they are one run.
                rx.el.input(type="hidden", name="run_key", value=S.run_key),
                _costs(),
                rx.flex(
                    rx.button(
                        rx.icon("sparkles", size=16),
                        rx.cond(S.running, "Running…", rx.cond(S.local_provider, "Analyse", "Run")),
                        type="submit",
                        loading=S.running,
                        # Empty text disables it once the debounce catches up; a click just
                        # before that submits the box's value, which the flow then refuses.
                        disabled=S.running | (S.estimate == 0),
                        size="3",
                        id="run-ai",
                    ),
                    rx.text(
                        "Balance ",
                        rx.text.strong(LiveBalance.balance),
                        " · available ",
                        rx.text.strong(LiveBalance.available),
                        size="2",
                        color_scheme="gray",
                    ),
                    align="center",
                    spacing="4",
                    wrap="wrap",
                ),
                rx.text(PRICE_NOTE, size="1", color_scheme="gray"),
                spacing="3",
                width="100%",
            ),
            on_submit=S.run,
            reset_on_submit=False,
            width="100%",
        ),
    )


def _output() -> rx.Component:
    return card(
        rx.hstack(
            rx.heading(rx.cond(S.local_provider, "Analysis", "Output"), size="4"),
            rx.cond(S.running, rx.spinner(size="2")),
            rx.spacer(),
            rx.cond(
                S.final_cost >= 0,
                rx.text(
                    "Charged ",
                    S.final_cost,
                    " of ",
                    S.reserved,
                    " reserved",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            align="center",
            width="100%",
        ),
        rx.cond(
            S.output != "",
            rx.text(
                S.output,
                white_space="pre-wrap",
                overflow_wrap="anywhere",
                line_height="1.6",
                id="ai-output",
            ),
            rx.text("The output appears here as it is written.", color_scheme="gray", size="2"),
        ),
    )


@template(routes.EXAMPLE_AI, "Example AI", on_load=[ExampleAIState.load])
def example_ai_page() -> rx.Component:
    """Text, cost, run button, streamed output."""
    return rx.vstack(
        page_header(
            "Example AI",
            "A demo feature metered like yours: reserve the most it can cost, stream the "
            "output, pay only for what was used.",
        ),
        _form(),
        _problem(),
        _output(),
        spacing="4",
        width="100%",
    )
