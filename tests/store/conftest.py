"""Fixtures of the store contract suite: one ``store`` per backend, fresh owners per test.

Every test of ``tests/store/`` that takes ``store`` runs on each backend: ``memory``,
``jsonfiles``, ``sqlite``, ``postgres`` (``convoledger.store.sql.SqlStore``; PostgreSQL via the
``postgres_url`` fixture of ``tests/conftest.py``, which fails under ``CI=true`` and skips
elsewhere when the server is down) and ``sqlite+redis`` (``RedisCachedStore`` over a SQLite
``SqlStore``, Redis via the ``redis_url`` fixture, same rules). Select backends with ``-k``, e.g.
``-k "memory or jsonfiles"``.

Isolation on the shared PostgreSQL database: tests never clean up and never assume an empty
database; every test works under fresh random owner ids (``owner`` / ``other_owner``). On the
shared Redis every ``sqlite+redis`` store uses its own random key prefix (keys expire by TTL).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from convoledger.store.base import Store

BACKENDS = [
    "memory",
    "jsonfiles",
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("sqlite+redis", marks=pytest.mark.redis),
]


def make_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    """A new, unopened store of ``backend`` under ``tmp_path`` (ImportError while ``SqlStore``
    does not exist: the SQL params fail rather than skip)."""
    if backend == "memory":
        from convoledger.store.memory import MemoryStore

        return MemoryStore()
    if backend == "jsonfiles":
        from convoledger.store.jsonfiles import JsonFilesStore

        return JsonFilesStore(tmp_path / "ledger-json")
    from convoledger.store.sql import SqlStore

    if backend == "sqlite":
        return SqlStore(f"sqlite+aiosqlite:///{tmp_path}/ledger.db")
    if backend == "postgres":
        return SqlStore(request.getfixturevalue("postgres_url"))
    if backend == "sqlite+redis":
        from convoledger.store.redis_cache import RedisCachedStore

        return RedisCachedStore(
            SqlStore(f"sqlite+aiosqlite:///{tmp_path}/ledger.db"),
            request.getfixturevalue("redis_url"),
            ttl_seconds=60,
            prefix=f"convoledger-test:{uuid.uuid4().hex}:",
        )
    raise AssertionError(f"unknown backend {backend}")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend name of this run of a contract test."""
    return str(request.param)


@pytest.fixture
async def store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """An opened store of the parametrised backend, closed after the test."""
    s = make_store(backend, tmp_path, request)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
def owner() -> str:
    """A fresh owner id for this test."""
    return f"owner-{uuid.uuid4()}"


@pytest.fixture
def other_owner() -> str:
    """A second fresh owner id (the "owner B" of isolation tests)."""
    return f"other-{uuid.uuid4()}"
