"""Bring a database's schema up to date with the Alembic migrations."""

from pathlib import Path
from typing import Optional

from alembic import command
from alembic.config import Config

from actions.db.session import PROJECT_ROOT, database_url


def alembic_config(url: Optional[str] = None) -> Config:
    """Return the project's Alembic configuration, aimed at a database URL."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(Path(PROJECT_ROOT, "migrations")))
    config.attributes["url"] = url or database_url()
    config.attributes["configure_logging"] = False
    return config


def upgrade_database(url: Optional[str] = None) -> None:
    """Apply every migration that the database does not have yet."""
    command.upgrade(alembic_config(url), "head")


if __name__ == "__main__":
    upgrade_database()
