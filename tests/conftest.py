"""Fixtures shared by the suite: a migrated case store on each backend.

Every test that takes `database` runs on SQLite and, when TEST_DATABASE_URL
names a PostgreSQL database, once more on PostgreSQL.
"""

import os
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import text

from actions.db import session as db_session
from actions.db.migrate import upgrade_database
from actions.db.models import Base

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session")
def migrated_urls(tmp_path_factory) -> dict:
    """Migrate one database per backend once for the whole run."""
    urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('db') / 'cases.db'}"}
    if os.environ.get("TEST_DATABASE_URL"):
        urls["postgresql"] = os.environ["TEST_DATABASE_URL"]
        engine = db_session.make_engine(urls["postgresql"])
        with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(text(f'DROP TABLE IF EXISTS "{table.name}" CASCADE'))
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()
    for url in urls.values():
        upgrade_database(url)
    return urls


@pytest.fixture(params=BACKENDS)
def database(request, migrated_urls, monkeypatch) -> Iterator[str]:
    """Point the case store at an emptied database of one backend."""
    url = migrated_urls[request.param]
    engine = db_session.make_engine(url)
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()

    monkeypatch.setenv("DATABASE_URL", url)
    db_session.reset_engine()
    yield url
    db_session.reset_engine()


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parents[1]
