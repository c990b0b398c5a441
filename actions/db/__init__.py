"""The case store: SQLAlchemy models, sessions, folios and migrations."""
