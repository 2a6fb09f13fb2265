"""Replay an earlier run that used the same idempotency key, instead of charging again."""

from __future__ import annotations

import time
from collections.abc import Iterator

from credits_app.db import read_session
from credits_app.models import EntryKind, HoldStatus
from credits_app.services.accounts import balance_of
from credits_app.services.ai.charge import step_key
from credits_app.services.ai.events import AiEvent, Chunk, Failed, Finished, Reserved
from credits_app.services.holds import HoldRecord, HoldResult, hold_record
from credits_app.services.journal import find_entry

POLL_SECONDS = 0.2
# Holds resolved before runs recorded how they ended were captured only when they finished.
_FINISHED = (None, "finished")


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


def _charged(user_id: int, key: str, record: HoldRecord) -> int:
    """What the earlier run paid: its capture, or the spend made after its hold lapsed."""
    if record.status == HoldStatus.CAPTURED:
        return record.captured or 0
    with read_session() as session:
        late = find_entry(
            session, user_id=user_id, kind=EntryKind.SPEND, key=step_key(key, "charge")
        )
    return -late.delta if late is not None else 0


def replay_events(
    user_id: int, hold: HoldResult, key: str, *, wait_seconds: float
) -> Iterator[AiEvent]:
    """Yield what the earlier run with this key ended in, without running anything again."""
    record = _settled_record(user_id, hold.hold_id, wait_seconds)
    with read_session() as session:
        balance = balance_of(session=session, user_id=user_id)
    if record is None or record.status == HoldStatus.ACTIVE:
        message = "a request with this idempotency key is still running"
        yield Failed(message, "in_progress", balance.balance, balance.available)
        return
    charged = _charged(user_id, key, record)
    if not charged:
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
    if record.outcome not in _FINISHED:
        message = (
            f"an earlier request with this idempotency key stopped early ({record.outcome}) "
            f"and was charged {charged} credit(s) for the output it delivered; "
            "use a new key to try again"
        )
        args = (message, "already_failed", balance.balance, balance.available)
        yield Failed(*args, charged=charged, result=result)
        return
    yield Finished(
        charged,
        hold.reserved,
        balance.balance,
        balance.available,
        result,
        hold.hold_id,
        replayed=True,
    )
