"""Shared fixtures: isolated settings, and a fresh migrated database per test.

Database tests take the `db_url` fixture (or `engine` / `session`), which runs each test on
a SQLite file and, when CREDITS_TEST_POSTGRES_URL is set, on PostgreSQL too (test ids
`sqlite` and `postgres`). With CREDITS_REQUIRE_SERVICES=1 a missing server fails the run.

After every test that passed on a test database, `ledger_invariants` runs the ledger check
(`python -m credits_app check`) on it and fails the test on any violation. A test that
breaks the ledger on purpose opts out with `@pytest.mark.ledger_corrupted("why")`.
"""

from __future__ import annotations

import os
import tempfile

# Isolate the suite from a developer's .env and shell before any settings are read: every
# setting's variable (and alias) is dropped, plus the simulator's and Reflex's own.
from credits_app.settings import Settings  # reads nothing until asked

for _name, _field in Settings.model_fields.items():
    _aliases = getattr(_field.validation_alias, "choices", None) or []
    for _variable in (_name.upper(), *(str(a) for a in _aliases)):
        os.environ.pop(_variable, None)
for _name in ("REFLEX_ENV_MODE", "STRIPE_SIM_CONTROL_TOKEN", "STRIPE_SIM_API_VERSION"):
    os.environ.pop(_name, None)
os.environ["CREDITS_ENV_FILE"] = os.devnull
os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="credits-test-data-")
# Argon2 at full strength costs ~0.25 s per hash; tests create hundreds of users.
os.environ["ARGON2_TIME_COST"] = "1"
os.environ["ARGON2_MEMORY_KIB"] = "1024"

import pytest  # noqa: E402
from sqlmodel import Session  # noqa: E402

from credits_app.db import engine_for, make_engine  # noqa: E402
from credits_app.settings import get_settings  # noqa: E402
from tests.support import databases, processes, services  # noqa: E402

# The fixtures that hand a test its own database; `ledger_invariants` checks each one used.
DATABASE_FIXTURES = ("db_url", "sqlite_url", "postgres_url")
_CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep the report of the test's call, for fixtures that act on the outcome."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report
    return report


def pytest_sessionfinish(session):
    """Close the connections the after-test ledger checks kept open."""
    databases.dispose_check_engines()


@pytest.fixture
def ledger_check_urls(request) -> list[str]:
    """The databases whose ledger is checked after the test: those of `DATABASE_FIXTURES` it uses.

    A folder's conftest (or a module) may override this to add the URL of a database it
    creates itself, e.g. one a started app process writes to.
    """
    return [
        request.getfixturevalue(name) for name in DATABASE_FIXTURES if name in request.fixturenames
    ]


@pytest.fixture(autouse=True)
def ledger_invariants(request):
    """Fail a passing test after which its database breaks a ledger invariant.

    Like reflex's own `raise_console_error`, one autouse fixture guards every test. It
    requests the database fixtures before the test's other fixtures are set up, so it
    checks after they are torn down (in-flight webhooks delivered, servers stopped). A
    test that failed is not checked again.
    """
    marker = request.node.get_closest_marker("ledger_corrupted")
    if marker is not None:
        yield
        return
    urls = request.getfixturevalue("ledger_check_urls")
    yield
    report = request.node.stash.get(_CALL_REPORT, None)
    if not urls or report is None or not report.passed:
        return
    problems = [f"{url}: {line}" for url in urls for line in databases.ledger_problems(url)]
    if problems:
        pytest.fail(
            "the ledger check failed after this test (mark it "
            '@pytest.mark.ledger_corrupted("why") if it breaks the ledger on purpose):\n  '
            + "\n  ".join(problems),
            pytrace=False,
        )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file that tests copy."""
    return databases.build_sqlite_template(tmp_path_factory.mktemp("template") / "credits.db")


@pytest.fixture(scope="session")
def postgres_base_url():
    """The PostgreSQL server from CREDITS_TEST_POSTGRES_URL, or a skip/fail."""
    url = services.postgres_url()
    problem = databases.postgres_reachable(url)
    if problem:
        services.unavailable("services", f"PostgreSQL at {url} is unreachable: {problem}")
    return url


@pytest.fixture(scope="session")
def postgres_schema_url(postgres_base_url):
    """A migrated schema of its own for this test session."""
    schema, url = databases.create_postgres_schema(postgres_base_url)
    yield url
    databases.drop_postgres_schema(postgres_base_url, schema)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    """The URL of an empty, migrated database: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        return databases.copy_sqlite(template, tmp_path / "credits.db")
    url = request.getfixturevalue("postgres_schema_url")
    databases.truncate_postgres(url)
    return url


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path):
    """The URL of an empty, migrated SQLite file (for SQLite-only tests)."""
    return databases.copy_sqlite(sqlite_template, tmp_path / "credits.db")


@pytest.fixture
def postgres_url(postgres_schema_url):
    """The URL of an empty, migrated PostgreSQL schema (for PostgreSQL-only tests)."""
    databases.truncate_postgres(postgres_schema_url)
    return postgres_schema_url


@pytest.fixture
def engine(db_url):
    """An engine on the test database, configured as the app configures it."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    """A session on the test database."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app_settings(db_url, monkeypatch):
    """Point the app's own settings (and engine) at the test database; returns the settings."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield get_settings()
    engine_for(db_url).dispose()
    engine_for.cache_clear()
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def redis_url():
    """The Redis server from CREDITS_TEST_REDIS_URL, or a skip/fail."""
    import redis

    url = services.redis_url()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        services.unavailable("services", f"Redis at {url} is unreachable: {exc}")
    return url


@pytest.fixture(scope="module")
def test_secrets():
    """Make this process mint tokens and sign webhooks with the secrets of started backends."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ACCESS_TOKEN_SECRET", processes.ACCESS_TOKEN_SECRET)
        patch.setenv("ADMIN_API_KEY", processes.ADMIN_API_KEY)
        patch.setenv("STRIPE_WEBHOOK_SECRET", processes.WEBHOOK_SECRET)
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()
