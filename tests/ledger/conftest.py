"""A ``Ledger`` fixture over every backend (fresh owner per test; PostgreSQL for real in CI)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from convoledger.backends import open_ledger
from convoledger.ledger import Ledger

SHARED = Path(__file__).resolve().parents[2].parent / "shared"


@pytest.fixture(params=["memory", "jsonfiles", "sqlite", "postgres"])
async def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Ledger]:
    backend = request.param
    if backend == "memory":
        url = "memory://"
    elif backend == "jsonfiles":
        url = f"jsonfiles://{tmp_path / 'ledger'}"
    elif backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    async with open_ledger(url, owner=f"owner-{uuid.uuid4().hex[:10]}") as opened:
        yield opened
