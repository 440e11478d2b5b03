"""The SQL store: one SQLAlchemy 2 Core implementation for SQLite (default) and PostgreSQL.

Public API: ``SqlStore(url)`` (a ``Store``) and ``upgrade_database(url)`` (async; creates or
upgrades the schema with the shipped Alembic migrations and returns the head revision, for
``convoledger db upgrade``). See ``store.py`` for how the package fits together.
"""

from __future__ import annotations

from convoledger.store.sql.migrate import head_revision, upgrade_database
from convoledger.store.sql.store import SqlStore

__all__ = ["SqlStore", "head_revision", "upgrade_database"]
