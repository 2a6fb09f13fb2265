"""Schemas of /api/me/usage: usage per day or per feature over a range of UTC days."""

from __future__ import annotations

import datetime as dt

from pydantic import ConfigDict, Field

from credits_app.api.schemas.common import ResponseModel


class UsageItem(ResponseModel):
    """Usage of one day (`groupBy=day`) or of one feature (`groupBy=feature`)."""

    date: dt.date | None = Field(
        default=None, description="The UTC day (`groupBy=day`); absent otherwise."
    )
    feature: str | None = Field(
        default=None, description="The feature (`groupBy=feature`); absent otherwise."
    )
    credits: int = Field(description="Credits used.")
    uses: int = Field(description="How many spends and captures used them.")
    by_feature: dict[str, int] | None = Field(
        default=None, description="Credits per feature that day (`groupBy=day`)."
    )


class UsageResponse(ResponseModel):
    """The token user's usage from `from` to `to` (UTC days, both included)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "from": "2026-11-28",
                    "to": "2026-11-29",
                    "groupBy": "day",
                    "credits": 42,
                    "uses": 5,
                    "items": [
                        {"date": "2026-11-28", "credits": 30, "uses": 3, "byFeature": {"chat": 30}},
                        {
                            "date": "2026-11-29",
                            "credits": 12,
                            "uses": 2,
                            "byFeature": {"chat": 2, "image": 10},
                        },
                    ],
                }
            ]
        }
    )

    from_: dt.date = Field(alias="from", description="The first UTC day of the range.")
    to: dt.date = Field(description="The last UTC day of the range.")
    group_by: str = Field(description="`day` (every day of the range, oldest first) or `feature`.")
    credits: int = Field(description="Credits used over the whole range.")
    uses: int = Field(description="Spends and captures over the whole range.")
    items: list[UsageItem]
