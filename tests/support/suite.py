"""Run the whole suite (what `make test` does): one pytest process per in-process Reflex app.

Reflex keeps the states and pages of an app in process-wide registries. An AppHarness that
stops unregisters the app's states, and the next harness in the same process reloads only
the app module, so it serves no page and knows no state. Every test module that runs the
app inside pytest's own process therefore gets a process of its own, and the rest of the
suite runs in one more; the exit status is the worst of them.

    python -m tests.support.suite [pytest flags]        # the whole suite, split as above
    python -m tests.support.suite [flags] tests/unit    # with paths: one plain pytest run
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Each runs the app in-process (reflex.testing.AppHarness): one pytest process apiece.
IN_PROCESS_APPS = (
    "tests/e2e",
    "tests/security/test_accounts.py",
    "tests/security/test_admin_pages.py",
    "tests/security/test_admin_webhooks_events.py",
    "tests/security/test_bounded_work.py",
)
NO_TESTS_COLLECTED = 5


def _names_tests(argument: str) -> bool:
    return not argument.startswith("-") and Path(argument.split("::")[0]).exists()


def runs(argv: list[str]) -> list[list[str]]:
    """The pytest argument lists to run: one when paths are named, else the split suite."""
    if any(_names_tests(argument) for argument in argv):
        return [argv]
    rest = [*argv, *(f"--ignore={path}" for path in IN_PROCESS_APPS)]
    return [rest, *([*argv, path] for path in IN_PROCESS_APPS)]


def main(argv: list[str]) -> int:
    """Run each pytest process in turn and return the worst exit status."""
    worst = 0
    for arguments in runs(argv):
        print(f"\n=== pytest {' '.join(arguments)}", flush=True)
        status = subprocess.call([sys.executable, "-m", "pytest", *arguments])
        if status != NO_TESTS_COLLECTED:  # e.g. -k leaves nothing in one part
            worst = max(worst, status)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
