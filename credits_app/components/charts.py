"""Charts shared by the pages: bars per day, stacked by feature, in the theme's colours."""

from __future__ import annotations

import reflex as rx

# One colour per feature, in the order the features are listed.
COLORS = ("violet", "grass", "amber", "cyan", "crimson", "blue", "orange", "teal")


def axes(y_width: int) -> list[rx.Component]:
    """Grid, day axis, credits axis, tooltip and legend of a chart per day."""
    return [
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke=rx.color("gray", 6)),
        rx.recharts.x_axis(data_key="day", tick_line=False, interval="preserveStartEnd"),
        rx.recharts.y_axis(allow_decimals=False, width=y_width),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(),
    ]


def stacked_by_feature(data, features, *, height: int = 260, y_width: int = 40) -> rx.Component:
    """Bars per day (`data` rows: {'day': 'Nov 25', feature: credits, ...}), one stack."""
    bars = rx.foreach(
        features,
        lambda feature, i: rx.recharts.bar(
            data_key=feature,
            stack_id="features",
            fill=rx.color(rx.Var.create(list(COLORS))[i % len(COLORS)], 9),
        ),
    )
    return rx.recharts.bar_chart(*axes(y_width), bars, data=data, width="100%", height=height)


def bars_per_day(data, series, *, height: int = 220, y_width: int = 48) -> rx.Component:
    """Side-by-side bars per day, one per (data key, legend name, colour) in `series`."""
    bars = [
        rx.recharts.bar(data_key=key, name=name, fill=rx.color(color, 9))
        for key, name, color in series
    ]
    return rx.recharts.bar_chart(*axes(y_width), *bars, data=data, width="100%", height=height)
