"""`make test` runs each in-process Reflex app's tests in a pytest process of its own."""

from __future__ import annotations

from pathlib import Path

from tests.support.suite import IN_PROCESS_APPS, runs


def test_the_whole_suite_gives_each_in_process_app_its_own_process():
    planned = runs(["-q", "-p", "no:cacheprovider"])
    flags = ["-q", "-p", "no:cacheprovider"]
    assert planned[0] == [*flags, *(f"--ignore={path}" for path in IN_PROCESS_APPS)]
    assert planned[1:] == [[*flags, path] for path in IN_PROCESS_APPS]


def test_named_paths_run_as_one_plain_pytest_run():
    assert runs(["-x", "tests/unit", "-k", "ledger"]) == [["-x", "tests/unit", "-k", "ledger"]]
    assert runs(["tests/unit/test_ledger.py::test_x"]) == [["tests/unit/test_ledger.py::test_x"]]


def test_every_module_that_runs_the_app_in_process_has_a_process_of_its_own():
    # A second in-process Reflex app in one pytest process serves no pages and knows no
    # states, so each module that starts one must be listed (tests/e2e starts one for all).
    root = Path(__file__).resolve().parents[2]
    in_process = ("sqlite_backend", "start_backend")  # tests/support/reflex_socket.py
    starters = {
        path.relative_to(root).as_posix()
        for path in (root / "tests").rglob("test_*.py")
        if "tests.support.reflex_socket import" in (text := path.read_text())
        and any(f"{name}(" in text for name in in_process)
    }
    listed = {path for path in IN_PROCESS_APPS if path.endswith(".py")}
    assert {p for p in starters if not p.startswith("tests/e2e/")} == listed
