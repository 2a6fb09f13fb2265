"""Race one operation from several processes, each with its own engine and connections."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Callable

from sqlalchemy.engine import Engine

from credits_app.db import make_engine

# attempt(engine, user_id, key) -> an outcome name such as "spent" or "insufficient".
Attempt = Callable[[Engine, int, str], str]


def _run_chunk(attempt: Attempt, url: str, user_id: int, keys: list[str], start) -> Counter:
    engine = make_engine(url)
    start.wait()
    outcomes = Counter(attempt(engine, user_id, key) for key in keys)
    engine.dispose()
    return outcomes


def outcomes_from_processes(
    attempt: Attempt, url: str, user_id: int, key_chunks: list[list[str]]
) -> Counter:
    """Run `attempt` once per key, one spawned process per chunk, all released together.

    `attempt` must be a module-level function, so that the child processes can import it.

    Returns:
        How often each outcome happened, over every process.
    """
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Manager().Event()
    with ctx.Pool(len(key_chunks)) as pool:
        pending = [
            pool.apply_async(_run_chunk, (attempt, url, user_id, chunk, start))
            for chunk in key_chunks
        ]
        start.set()
        return sum((job.get(timeout=120) for job in pending), Counter())
