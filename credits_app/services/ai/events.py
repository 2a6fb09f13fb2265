"""The events a metered AI run yields, in order: reserved, chunk..., then finished or failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Reserved:
    """The estimate is held: `amount` credits are reserved until the run ends."""

    amount: int
    hold_id: int
    balance: int
    available: int
    replayed: bool = False
    kind: Literal["reserved"] = "reserved"


@dataclass(frozen=True)
class Chunk:
    """A piece of output, as soon as the provider produced it; charged once yielded."""

    text: str
    kind: Literal["chunk"] = "chunk"


@dataclass(frozen=True)
class Finished:
    """The run succeeded: `cost` credits (at most the reserved amount) were charged."""

    cost: int
    estimate: int
    balance: int
    available: int
    result: str
    hold_id: int
    replayed: bool = False
    kind: Literal["finished"] = "finished"


@dataclass(frozen=True)
class Failed:
    """The run failed or stopped early; it was charged for the output it delivered.

    `result` is that output and `charged` what it cost (0 when nothing was delivered: the
    hold was released). `unpaid` is the part of that cost the user could no longer pay: only
    when the hold lapsed while the consumer stalled and the credits were spent meanwhile.
    """

    message: str
    code: str
    balance: int
    available: int
    charged: int = 0
    unpaid: int = 0
    result: str = ""
    kind: Literal["failed"] = "failed"


AiEvent = Reserved | Chunk | Finished | Failed
