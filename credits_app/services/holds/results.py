"""What hold operations return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class HoldResult:
    """A reservation: the hold and the user's balance right after it was made."""

    hold_id: int
    user_id: int
    feature: str
    reserved: int
    balance: int
    available: int
    expires_at: datetime
    replayed: bool = False


@dataclass(frozen=True)
class SettleResult:
    """How a hold resolved (captured or released) and the balance right after."""

    hold_id: int
    user_id: int
    status: str
    captured: int
    released: int
    balance: int
    available: int
    entry_id: int
    replayed: bool = False
