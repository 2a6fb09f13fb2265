"""What hold operations return, and the locked account state they work on."""

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


@dataclass
class AccountState:
    """The locked balance row, kept current while one transaction changes it."""

    id: int
    user_id: int
    balance: int
    held: int
    debt: int
    expired: int = 0

    @property
    def available(self) -> int:
        """Credits not reserved by an active hold."""
        return self.balance - self.held
