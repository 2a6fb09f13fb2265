"""Replay an earlier run that used the same idempotency key, instead of charging again."""

from __future__ import annotations

import time
from collections.abc import Iterator

from credits_app.db import read_session
from credits_app.models import HoldStatus
from credits_app.services.accounts import balance_of
from credits_app.services.ai.events import AiEvent, Chunk, Failed, Finished, Reserved
from credits_app.services.holds import HoldRecord, HoldResult, hold_record

POLL_SECONDS = 0.2


def _settled_record(user_id: int, hold_id: int, wait_seconds: float) -> HoldRecord | None:
    """Wait until the earlier run settled its hold (a double click runs in parallel)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        with read_session() as session:
            record = hold_record(session=session, user_id=user_id, hold_id=hold_id)
        settled = record is None or record.status != HoldStatus.ACTIVE
        if settled or time.monotonic() >= deadline:
            return record
        time.sleep(POLL_SECONDS)


def replay_events(user_id: int, hold: HoldResult, *, wait_seconds: float) -> Iterator[AiEvent]:
    """Yield what the earlier run with this key ended in, without running anything again."""
    record = _settled_record(user_id, hold.hold_id, wait_seconds)
    with read_session() as session:
        balance = balance_of(session=session, user_id=user_id)
    if record is None or record.status == HoldStatus.ACTIVE:
        message = "a request with this idempotency key is still running"
        yield Failed(message, "in_progress", balance.balance, balance.available)
        return
    if record.status != HoldStatus.CAPTURED:
        message = (
            "an earlier request with this idempotency key failed and was not charged; "
            "use a new key to try again"
        )
        yield Failed(message, "already_failed", balance.balance, balance.available)
        return
    yield Reserved(hold.reserved, hold.hold_id, balance.balance, balance.available, replayed=True)
    result = record.result or ""
    if result:
        yield Chunk(result)
    yield Finished(
        record.captured or 0,
        hold.reserved,
        balance.balance,
        balance.available,
        result,
        hold.hold_id,
        replayed=True,
    )
