"""Choosing a store from a URL: ``open_ledger(url)`` and ``store_from_url(url)``.

URLs:
- ``memory://`` — in-process (``MemoryStore``);
- ``jsonfiles:///path/to/dir`` — one directory per owner (``JsonFilesStore``);
- ``sqlite:///path/to/file.db`` or ``sqlite+aiosqlite:///…`` — SQLite (``SqlStore``), the default;
- ``postgresql://…``, ``postgres://…`` or ``postgresql+asyncpg://…`` — PostgreSQL (``SqlStore``).

With ``redis_url`` (``redis://…``; ``CONVOLEDGER_REDIS_URL`` in the settings) the store is wrapped
in ``RedisCachedStore``, a read cache with the same guarantees (``store/redis_cache.py``).

Opening a store creates what is missing (a SQLite file and its directory, a JSON-files
directory, the SQL schema). ``check_ledger_exists(url)`` says beforehand whether there is a
ledger to open, for callers that only read (``convoledger stats``, ``show``, …: a mistyped URL
must not silently create an empty ledger).
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from convoledger.errors import NotFound
from convoledger.ledger import Ledger
from convoledger.models.policy import LifecyclePolicy
from convoledger.store.base import Store

SUPPORTED_SCHEMES = (
    "memory",
    "jsonfiles",
    "sqlite",
    "sqlite+aiosqlite",
    "postgresql",
    "postgres",
    "postgresql+asyncpg",
)


def display_url(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***`` (for messages and logs)."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    credentials, at, host = authority.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}{slash}{path}"


def normalize_sql_url(url: str) -> str:
    """The SQLAlchemy async URL for a ``sqlite:``/``postgres(ql):`` URL (driver added)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL (no '://'): {url!r}")
    if scheme == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+asyncpg://{rest}"
    return url


def store_from_url(url: str, redis_url: str | None = None) -> Store:
    """A (not yet opened) ``Store`` for ``url``; ``ValueError`` naming the supported schemes.

    ``redis_url`` (optional, e.g. ``redis://127.0.0.1:6379/0``): wrap the store in a
    ``RedisCachedStore`` read cache; ``None`` or ``""`` means no cache. ``ValueError`` for a URL
    redis-py cannot use."""
    store = _plain_store(url)
    if not redis_url:
        return store
    from convoledger.store.redis_cache import RedisCachedStore

    return RedisCachedStore(store, redis_url)


def _plain_store(url: str) -> Store:
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in SUPPORTED_SCHEMES:
        raise ValueError(
            f"unsupported ledger URL {url!r}; use one of: memory://, jsonfiles:///dir, "
            "sqlite:///file.db, postgresql+asyncpg://user@host/db"
        )
    if scheme == "memory":
        from convoledger.store.memory import MemoryStore

        return MemoryStore()
    if scheme == "jsonfiles":
        if not rest:
            raise ValueError("jsonfiles:// needs a directory, e.g. jsonfiles:///var/lib/convoledger")
        from convoledger.store.jsonfiles import JsonFilesStore

        return JsonFilesStore(Path(rest))
    from convoledger.store.sql import SqlStore

    sql_url = normalize_sql_url(url)
    if sql_url.startswith("sqlite+aiosqlite:///"):
        path = sql_url.removeprefix("sqlite+aiosqlite:///")
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return SqlStore(sql_url)


def open_ledger(
    url: str = "memory://",
    *,
    owner: str = "local",
    policy: LifecyclePolicy | None = None,
    redis_url: str | None = None,
) -> Ledger:
    """A ``Ledger`` over the store ``url`` names, for ``owner``, behind a Redis read cache when
    ``redis_url`` is given (see ``store_from_url``). Use it as
    ``async with open_ledger(url) as ledger: …`` (or ``await ledger.open()`` / ``close()``)."""
    return Ledger(store_from_url(url, redis_url=redis_url), owner=owner, policy=policy)


async def check_ledger_exists(url: str) -> None:
    """Return if ``url`` names an existing ledger, else raise ``NotFound`` saying what is
    missing. Nothing is created or changed.

    - ``memory://``: always exists (it is created with the process);
    - ``jsonfiles:///dir``: the directory must exist (an existing directory is a ledger, empty
      or not: ``JsonFilesStore`` keeps everything as files under it);
    - SQLite: the file must exist and hold convoledger's schema (an Alembic revision);
    - PostgreSQL: the database must hold convoledger's schema.

    ``ValueError`` for an unsupported URL or a file that is not a SQLite database; connection
    errors of the PostgreSQL driver propagate (e.g. ``asyncpg.InvalidCatalogNameError`` when
    the database does not exist, ``OSError`` when the server does not answer).
    """
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in SUPPORTED_SCHEMES:
        _plain_store(url)  # raises the ValueError naming the supported schemes
    if scheme == "memory":
        return
    if scheme == "jsonfiles":
        if not Path(rest).is_dir():
            raise NotFound(f"no ledger at {display_url(url)}: the directory {rest} does not exist")
        return
    from convoledger.store.sql import migrate

    sql_url = normalize_sql_url(url)
    if migrate.dialect_of(sql_url) == "sqlite":
        path = migrate.sqlite_path(sql_url)
        if path == ":memory:":
            return
        if not Path(path).is_file():
            raise NotFound(f"no ledger at {display_url(url)}: the file {path} does not exist")
        revision = await asyncio.to_thread(_sqlite_file_revision, path)
    else:
        revision = await migrate.postgres_revision(migrate.asyncpg_dsn(sql_url))
    if revision is None:
        raise NotFound(f"no ledger at {display_url(url)}: the database has no convoledger schema")


def _sqlite_file_revision(path: str) -> str | None:
    """The Alembic revision recorded in the SQLite file at ``path``, opened read-only."""
    from convoledger.store.sql.migrate import sqlite_revision

    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise ValueError(f"cannot open {path} as a SQLite database: {exc}") from exc
    try:
        return sqlite_revision(conn)
    except sqlite3.OperationalError:
        raise  # e.g. locked: a real database, a real problem
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"{path} is not a SQLite database ({exc})") from exc
    finally:
        conn.close()
