"""Race one operation from several processes, each with its own engine and connections."""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import Engine

from credits_app.db import READ_ONLY, make_engine

# attempt(engine, user_id, key) -> an outcome name such as "spent" or "insufficient".
Attempt = Callable[[Engine, int, str], str]
# When one process ran its attempts: (wall-clock start of the first, end of the last).
Span = tuple[float, float]
# How long a process waits at the barrier for the others to be ready.
READY_TIMEOUT = 120.0


def _run_chunk(
    attempt: Attempt, url: str, user_id: int, keys: list[str], ready
) -> tuple[Counter, Span]:
    engine = make_engine(url)
    # Connect before the barrier, so no process's first attempt also pays for connecting.
    with engine.execution_options(**READ_ONLY).connect() as conn:
        conn.execute(text("SELECT 1"))
    ready.wait(READY_TIMEOUT)
    # time.time(), not a monotonic clock: the spans of different processes are compared.
    started = time.time()
    outcomes = Counter(attempt(engine, user_id, key) for key in keys)
    ended = time.time()
    engine.dispose()
    return outcomes, (started, ended)


def assert_spans_overlap(spans: list[Span]) -> None:
    """Assert that every process was still running when the last one started.

    Raises:
        AssertionError: When some process finished before another began, i.e. they did not
            race at all.
    """
    last_start = max(start for start, _ in spans)
    first_end = min(end for _, end in spans)
    if last_start >= first_end:
        offsets = ", ".join(
            f"{start - first_end:+.3f}..{end - first_end:+.3f}" for start, end in spans
        )
        raise AssertionError(
            f"the processes did not run concurrently: one finished {last_start - first_end:.3f} s "
            f"before the last one started (spans in s from the first end: {offsets})"
        )


def outcomes_from_processes(
    attempt: Attempt, url: str, user_id: int, key_chunks: list[list[str]]
) -> Counter:
    """Run `attempt` once per key, one spawned process per chunk, all released together.

    Each process builds its engine and opens a connection, then waits at a barrier until
    every process is ready. `attempt` must be a module-level function, so that the child
    processes can import it.

    Returns:
        How often each outcome happened, over every process.

    Raises:
        AssertionError: When the processes' attempts did not overlap in time.
    """
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager, ctx.Pool(len(key_chunks)) as pool:
        ready = manager.Barrier(len(key_chunks))
        pending = [
            pool.apply_async(_run_chunk, (attempt, url, user_id, chunk, ready))
            for chunk in key_chunks
        ]
        results = [job.get(timeout=READY_TIMEOUT + 120) for job in pending]
    assert_spans_overlap([span for _, span in results])
    return sum((outcomes for outcomes, _ in results), Counter())
