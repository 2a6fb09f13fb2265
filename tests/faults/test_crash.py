"""kill -9 the backend during a spend storm: every 200'd spend exists once, nothing doubles."""

from __future__ import annotations

import time

import pytest

from credits_app.db import make_engine
from tests.faults.storm import Storm, plan
from tests.runtime.helpers import balance_row, entries_by_key, new_user, token_for
from tests.support import processes

START_BALANCE = 100_000


@pytest.mark.slow
def test_kill_9_during_spend_storm_loses_and_doubles_nothing(db_url, tmp_path, test_secrets):
    engine = make_engine(db_url)
    user = new_user(engine, credits=START_BALANCE)
    keys = plan(clients=4, keys_each=150, prefix="crash")
    backend = processes.start_backend(db_url, tmp_path)
    # Every key list is spent by two clients at once: retries and duplicates race.
    storm = Storm(backend.url, token_for(user), keys + keys).start()
    try:
        _wait_for(lambda: len(storm.outcome.acked) >= 50)
        backend.kill9()
        acked_before_crash = dict(storm.outcome.acked)
        time.sleep(0.5)
        backend = backend.restart()
        storm.join()
    finally:
        storm.stop.set()
        backend.stop()

    outcome = storm.outcome
    all_keys = {key: amount for client in keys for key, amount in client}
    assert outcome.statuses["conn"] > 0, (outcome.statuses, outcome.codes, len(outcome.acked))
    assert 500 not in outcome.statuses, outcome.codes
    assert set(outcome.acked) == set(all_keys)
    assert all(len(ids) == 1 for ids in outcome.entry_ids.values()), "a key got two entries"
    for key, (amount, entry_id) in acked_before_crash.items():
        assert outcome.acked[key] == (amount, entry_id), "a 200 before the crash changed"
    assert entries_by_key(engine, user) == dict.fromkeys(all_keys, 1)
    assert balance_row(engine, user) == START_BALANCE - sum(all_keys.values())
    engine.dispose()


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the storm made no progress"
        time.sleep(0.01)
