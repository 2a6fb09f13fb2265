"""Start child processes in their own process groups, wait until they serve, stop them all."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from credits_app.settings import PROJECT_ROOT


class StartupError(Exception):
    """Raised when a child process exits or does not answer before its deadline."""


@dataclass
class Child:
    """A started process and the address that tells whether it serves.

    Attributes:
        name: Shown in messages ("Stripe simulator", "Reflex").
        process: The running process (leader of its own process group).
        ready_url: An HTTP address that answers once the process serves.
    """

    name: str
    process: subprocess.Popen
    ready_url: str = ""
    stopped: bool = field(default=False, init=False)

    @property
    def pid(self) -> int:
        """The process id (also its process-group id)."""
        return self.process.pid

    def alive(self) -> bool:
        """Tell whether the process still runs."""
        return self.process.poll() is None

    def signal_group(self, sig: int) -> None:
        """Send `sig` to the child's whole process group (Reflex forks bun and workers)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def stop(self, timeout: float = 10.0) -> int | None:
        """Interrupt the group like Ctrl-C would, then kill it if it lingers."""
        if not self.stopped:
            self.stopped = True
            self.signal_group(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal_group(signal.SIGKILL)
                self.process.wait(5)
            # Grandchildren may outlive the leader; the group id still names them.
            self.signal_group(signal.SIGKILL)
        return self.process.returncode


def start(
    name: str,
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    ready_url: str = "",
    stdout=None,
    stderr=None,
) -> Child:
    """Start `command` in a new process group, in the project folder.

    Args:
        name: Label for messages.
        command: The argv to run.
        env: Its complete environment.
        ready_url: Address `wait_ready` polls.
        stdout: Where its output goes (default: inherited).
        stderr: Where its errors go (default: inherited).

    Returns:
        The started child.
    """
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
        list(command),
        cwd=PROJECT_ROOT,
        env=dict(env),
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
    )
    return Child(name, process, ready_url)


def answers(url: str, timeout: float = 2.0) -> bool:
    """Tell whether an HTTP server answers at `url` (any status counts)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310  (http on localhost)
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def wait_ready(child: Child, timeout: float) -> None:
    """Poll the child's ready address until it answers.

    Raises:
        StartupError: When the child exits first or the deadline passes.
    """
    deadline = time.monotonic() + timeout
    while not answers(child.ready_url):
        if not child.alive():
            raise StartupError(
                f"{child.name} exited with code {child.process.returncode} before serving"
            )
        if time.monotonic() > deadline:
            raise StartupError(f"{child.name} did not answer at {child.ready_url} in {timeout}s")
        time.sleep(0.2)


def stop_all(children: Sequence[Child]) -> None:
    """Stop children in reverse start order."""
    for child in reversed(children):
        child.stop()


def supervise(children: Sequence[Child], banner: str = "") -> int:
    """Print `banner`, block until a child exits, Ctrl-C or SIGTERM; then stop every child.

    Returns:
        0 after Ctrl-C/SIGTERM, else the exit code of the child that stopped first.
    """

    def _on_term(_signum, _frame) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _on_term)
    code = 0
    try:
        if banner:
            print(banner, flush=True)
        while True:
            ended = [c for c in children if not c.alive()]
            if ended:
                code = ended[0].process.returncode or 1
                print(f"{ended[0].name} stopped (exit code {ended[0].process.returncode})")
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping...")
    finally:
        stop_all(children)
        signal.signal(signal.SIGTERM, previous)
    return code
