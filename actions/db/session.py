"""Engine and sessions of the case store.

`DATABASE_URL` names the database (PostgreSQL in production, e.g.
`postgresql+psycopg2://chatcun@127.0.0.1/chatcun`); without it the store is
the SQLite file `var/chatcun.db` in the project folder. The engine is made on
first use, never at import.
"""

import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "chatcun.db"

_engine: Optional[Engine] = None
_session_factory: Optional[sessionmaker] = None


def database_url() -> str:
    """Return the configured database URL, or the default SQLite file's."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def make_engine(url: str) -> Engine:
    """Create an engine for a URL, with settings that suit its backend."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, future=True, pool_pre_ping=True)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _enable_foreign_keys(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    return engine


def get_engine() -> Engine:
    """Return the process-wide engine, creating it on first use."""
    global _engine, _session_factory
    if _engine is None:
        url = database_url()
        _engine = make_engine(url)
        _session_factory = sessionmaker(bind=_engine, future=True)
        logger.info("Case store: %s", make_url(url).render_as_string(hide_password=True))
    return _engine


def reset_engine() -> None:
    """Dispose of the engine so the next use reads `DATABASE_URL` again."""
    global _engine, _session_factory
    if _engine is not None:
        _engine.dispose()
    _engine = None
    _session_factory = None


@contextmanager
def session_scope() -> Iterator[Session]:
    """Open a session, commit when the block succeeds, roll back otherwise."""
    get_engine()
    session = _session_factory()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
