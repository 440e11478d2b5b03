"""Schema creation and upgrades with Alembic, configured in code (no ``alembic.ini``).

The revisions live in ``migrations/versions`` inside the package, so an installed wheel can
upgrade a database. ``upgrade_database(url)`` (``convoledger db upgrade``) and
``SqlStore.open()`` bring a database to the head revision; an empty database is created. Both are
safe when several processes do it at once:

- SQLite: the upgrade runs inside ``BEGIN IMMEDIATE`` (the database write lock), so a second
  process waits (busy timeout), then finds the head revision recorded and does nothing;
- PostgreSQL: the upgrade runs in one transaction that first takes
  ``pg_advisory_xact_lock(MIGRATION_LOCK_KEY)``; DDL is transactional, so a second process waits
  for the lock, then finds the head revision and does nothing.

When the recorded revision is already the head, opening costs one query and Alembic is not
loaded at all.
"""

from __future__ import annotations

import asyncio
import functools
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from convoledger.store.sql.sqlite_driver import DEFAULT_BUSY_TIMEOUT, connect

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

# Alembic, SQLAlchemy's asyncio layer and asyncpg are imported where an upgrade (or PostgreSQL)
# needs them: opening a database already at the head revision loads none of them (issue 15:
# ``convoledger user create`` and the other CLI commands start in a fraction of the time).

#: Where the Alembic environment and revisions live.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: Key of the PostgreSQL advisory lock held while migrating ("convoled" in ASCII).
MIGRATION_LOCK_KEY = 0x636F6E766F6C6564


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` for the store's migrations; ``connection`` (an open SQLAlchemy
    connection, inside a transaction) is handed to ``migrations/env.py``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


def _scan_head() -> str | None:
    """The head revision read from the revision files' ``revision`` / ``down_revision`` lines
    (the one revision no other revision names as its parent), or ``None`` when the files are
    not that simple (a merge revision, a computed value): then Alembic decides."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict((name, value) for name, value in _REVISION_LINE.findall(path.read_text("utf-8")))
        revision, parent = found.get("revision", ""), found.get("down_revision", "")
        if not re.fullmatch(r"[\"'][\w.-]+[\"']", revision):
            return None
        revisions.add(revision[1:-1])
        if parent != "None":
            if not re.fullmatch(r"[\"'][\w.-]+[\"']", parent):
                return None
            parents.add(parent[1:-1])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


@functools.cache
def head_revision() -> str:
    """The newest revision id of the shipped migrations (read from the revision files without
    loading Alembic; ``tests/store_sql`` checks it against Alembic's own answer)."""
    head = _scan_head()
    if head is not None:
        return head
    from alembic.script import ScriptDirectory

    found = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if found is None:
        raise RuntimeError(f"no Alembic revisions found in {MIGRATIONS_DIR}")
    return found


# -- SQLite -----------------------------------------------------------------------------------


def sqlite_revision(conn: sqlite3.Connection) -> str | None:
    """The revision recorded in an SQLite database, or ``None`` when it has none."""
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise
    return None if row is None else str(row[0])


def upgrade_sqlite(conn: sqlite3.Connection) -> None:
    """Upgrade the database of ``conn`` (a ``sqlite_driver.connect`` connection, autocommit mode)
    to the head revision, inside ``BEGIN IMMEDIATE``. Alembic errors propagate (nothing is
    committed then)."""
    if sqlite_revision(conn) == head_revision():
        return
    from alembic import command
    from sqlalchemy.pool import StaticPool

    engine = sa.create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool)

    @sa.event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
    finally:
        engine.dispose(close=False)


def _upgrade_sqlite_file(path: str, busy_timeout: float) -> None:
    conn = connect(path, busy_timeout)
    try:
        upgrade_sqlite(conn)
    finally:
        conn.close()


# -- PostgreSQL -------------------------------------------------------------------------------


def asyncpg_dsn(url: str) -> str:
    """The libpq URL asyncpg takes, from a SQLAlchemy ``postgresql+asyncpg://`` URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def postgres_revision(dsn: str) -> str | None:
    """The revision recorded in a PostgreSQL database, or ``None`` when it has none."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("SELECT version_num FROM alembic_version")  # type: ignore[no-any-return]
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await conn.close()


def _upgrade_postgres_sync(connection: Connection) -> None:
    from alembic import command

    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
    command.upgrade(alembic_config(connection), "head")


async def upgrade_postgres(url: str) -> None:
    """Upgrade the PostgreSQL database at ``url`` (``postgresql+asyncpg://…``) to the head
    revision under the migration advisory lock."""
    if await postgres_revision(asyncpg_dsn(url)) == head_revision():
        return
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_upgrade_postgres_sync)
            await conn.commit()
    finally:
        await engine.dispose()


# -- entry point ------------------------------------------------------------------------------


def sqlite_path(url: str) -> str:
    """The file path of a ``sqlite://`` / ``sqlite+aiosqlite://`` URL (``:memory:`` for none)."""
    database = make_url(url).database
    return database if database else ":memory:"


def dialect_of(url: str) -> str:
    """``sqlite`` or ``postgresql`` for a SQLAlchemy URL; ``ValueError`` for anything else."""
    try:
        name = make_url(url).get_backend_name()
    except sa.exc.ArgumentError as exc:
        raise ValueError(f"not a database URL: {url!r}") from exc
    if name not in ("sqlite", "postgresql"):
        raise ValueError(
            f"unsupported database URL {url!r}; use sqlite+aiosqlite:///file.db or postgresql+asyncpg://…"
        )
    return name


async def upgrade_database(url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> str:
    """Create or upgrade the schema of the database at ``url`` to the newest revision and return
    that revision id. ``url``: ``sqlite+aiosqlite:///path.db`` (``sqlite:///`` works too) or
    ``postgresql+asyncpg://user@host/db``. ``ValueError`` for another URL; driver and Alembic
    errors propagate. An in-memory SQLite URL is refused (the schema would vanish at once)."""
    dialect = dialect_of(url)
    if dialect == "sqlite":
        path = sqlite_path(url)
        if path == ":memory:":
            raise ValueError("an in-memory SQLite database cannot be upgraded on its own; open a SqlStore")
        await asyncio.to_thread(_upgrade_sqlite_file, path, busy_timeout)
    else:
        await upgrade_postgres(url)
    return head_revision()
