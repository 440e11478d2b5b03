"""Fixtures of the SQL-store tests: SQLite URLs, a scratch PostgreSQL database, real texts.

PostgreSQL tests use the ``postgres_url`` fixture of ``tests/conftest.py`` (they fail under
``CI=true`` and skip elsewhere when the server is down). Tests that need an *empty* database
(migrations) get a scratch database created next to it and dropped afterwards; the others work
in the shared test database under fresh random owners.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sql_test_helpers import sqlite_url
from sqlalchemy.engine import make_url


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """URL of a fresh (not yet existing) SQLite file."""
    return sqlite_url(tmp_path / "ledger.db")


@pytest.fixture
def owner() -> str:
    """A fresh owner id."""
    return f"owner-{uuid.uuid4()}"


async def _admin(url: str, statement: str) -> None:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
def scratch_postgres_url(postgres_url: str) -> Iterator[str]:
    """URL of a new, empty PostgreSQL database (dropped after the test)."""
    name = f"convoledger_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(postgres_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
