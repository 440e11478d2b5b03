"""Fixtures for the API tests: a real app per backend (memory, SQLite file, PostgreSQL) with
its lifespan run and an httpx client with two fresh accounts (A and B) and their tokens.

PostgreSQL tests use fresh random account names, so no cleanup is needed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from api_helpers import Api, start_api


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh ledger on each backend."""
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def api(ledger_url: str) -> AsyncIterator[Api]:
    """A running app on each backend with two fresh accounts."""
    async for running in start_api(ledger_url):
        yield running
