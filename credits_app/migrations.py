"""Apply the Alembic migrations programmatically (the CLI's `migrate`, tests, startup)."""

from __future__ import annotations

from alembic.config import Config

from alembic import command
from credits_app.settings import PROJECT_ROOT


def alembic_config(url: str | None = None) -> Config:
    """Return the project's Alembic config, optionally aimed at another database URL."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    if url:
        # ConfigParser treats % as interpolation; URLs may carry %-escapes (search_path).
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str | None = None) -> None:
    """Bring the database at `url` (default: DATABASE_URL) up to the newest revision."""
    command.upgrade(alembic_config(url), "head")
