"""Where worker processes keep their metric values when a server runs several of them.

Kept apart from `metrics` so `run-prod` can prepare the folder without loading
prometheus-client itself (which picks its storage when first imported).
"""

from __future__ import annotations

import os
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> Path | None:
    """The folder of per-process values, when this process runs in multiprocess mode."""
    value = os.environ.get(MULTIPROC_ENV, "").strip()
    return Path(value) if value else None


def run_dir(data_dir: Path, port: int) -> Path:
    """The folder of a `run-prod` server on `port`: one per server, in DATA_DIR."""
    return data_dir / "metrics" / f"port-{port}"


def clear(folder: Path) -> None:
    """Create `folder`, or delete the value files an earlier run left in it.

    Only prometheus-client's `*.db` files go: counts of a previous run must not add to
    this one's, and a folder an operator chose may hold other things.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink(missing_ok=True)


def multiprocess_env(data_dir: Path, port: int, workers: int) -> dict[str, str]:
    """The environment that puts a server's workers in multiprocess mode, folder cleared.

    One worker needs none (its values stay in memory), unless PROMETHEUS_MULTIPROC_DIR is
    set already, which is then used (and cleared) as given.

    Returns:
        `{PROMETHEUS_MULTIPROC_DIR: folder}`, or nothing for a one-process server.
    """
    folder = multiprocess_dir()
    if folder is None and workers < 2:
        return {}
    folder = folder or run_dir(data_dir, port)
    clear(folder)
    return {MULTIPROC_ENV: str(folder)}
