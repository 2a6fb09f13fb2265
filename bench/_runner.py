"""Run an operation from several threads at once and summarise throughput and latency."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# A worker factory gets the thread number and returns (operation, cleanup); the operation
# gets the operation number and returns True when it did its work (False = refused).
Operation = Callable[[int], bool]
WorkerFactory = Callable[[int], tuple[Operation, Callable[[], None]]]


@dataclass(frozen=True)
class Result:
    """Throughput and latency of one measured run."""

    ops: int
    ok: int
    seconds: float
    p50_ms: float
    p99_ms: float
    samples_ms: list[float] = field(default_factory=list, repr=False)
    # CPU time of this whole process during the run (all threads): robust to other load.
    cpu_seconds: float = 0.0

    @property
    def cpu_us_per_op(self) -> float:
        """Client-process CPU microseconds per operation."""
        return self.cpu_seconds * 1e6 / self.ops if self.ops else 0.0

    @property
    def per_second(self) -> float:
        """Successful operations per second of wall time."""
        return self.ok / self.seconds if self.seconds else 0.0


def percentile(values: list[float], pct: float) -> float:
    """Return the pct-th percentile (nearest rank) of values, 0.0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def run_threads(factory: WorkerFactory, *, threads: int, ops: int) -> Result:
    """Run `ops` operations split over `threads` threads; measure from a common start."""
    per_thread = [ops // threads + (1 if n < ops % threads else 0) for n in range(threads)]
    workers = [factory(n) for n in range(threads)]
    latencies: list[list[float]] = [[] for _ in range(threads)]
    successes = [0] * threads
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 1)

    def work(n: int) -> None:
        operation = workers[n][0]
        start.wait()
        try:
            for i in range(per_thread[n]):
                began = time.perf_counter()
                successes[n] += bool(operation(n * ops + i))
                latencies[n].append(time.perf_counter() - began)
        except BaseException as exc:  # reported after the run, never swallowed
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    start.wait()
    began, cpu_began = time.perf_counter(), time.process_time()
    for thread in pool:
        thread.join()
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    for _, cleanup in workers:
        cleanup()
    if errors:
        raise errors[0]
    flat = [x * 1000 for lat in latencies for x in lat]
    p50, p99 = statistics.median(flat), percentile(flat, 99)
    return Result(ops, sum(successes), seconds, p50, p99, flat, cpu)


def combine(results: list[Result]) -> Result:
    """Merge several runs of the same workload into one (total work over total time)."""
    flat = [x for r in results for x in r.samples_ms]
    return Result(
        sum(r.ops for r in results),
        sum(r.ok for r in results),
        sum(r.seconds for r in results),
        statistics.median(flat),
        percentile(flat, 99),
        flat,
        sum(r.cpu_seconds for r in results),
    )
