"""`make test` runs each in-process Reflex app's tests in a pytest process of its own."""

from __future__ import annotations

from tests.support.suite import IN_PROCESS_APPS, runs


def test_the_whole_suite_gives_each_in_process_app_its_own_process():
    planned = runs(["-q", "-p", "no:cacheprovider"])
    flags = ["-q", "-p", "no:cacheprovider"]
    assert planned[0] == [*flags, *(f"--ignore={path}" for path in IN_PROCESS_APPS)]
    assert planned[1:] == [[*flags, path] for path in IN_PROCESS_APPS]


def test_named_paths_run_as_one_plain_pytest_run():
    assert runs(["-x", "tests/unit", "-k", "ledger"]) == [["-x", "tests/unit", "-k", "ledger"]]
    assert runs(["tests/unit/test_ledger.py::test_x"]) == [["tests/unit/test_ledger.py::test_x"]]
