"""Fixtures of the seed-compatibility tests: a ``Ledger`` over every backend and the recorded
provider responses of ``../shared`` (the real bodies seed 004's plan is about)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from convoledger.backends import open_ledger
from convoledger.ledger import Ledger
from recorded_responses import PROVIDER_DATA, Recorded


@pytest.fixture(
    params=["memory", "jsonfiles", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Ledger]:
    """An opened ledger of each backend, for a fresh owner (PostgreSQL: the test database)."""
    backend = request.param
    if backend == "memory":
        url = "memory://"
    elif backend == "jsonfiles":
        url = f"jsonfiles://{tmp_path / 'ledger'}"
    elif backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    async with open_ledger(url, owner=f"seed-{uuid.uuid4().hex[:10]}") as opened:
        yield opened


@pytest.fixture(scope="session")
def recorded() -> Recorded:
    """The recorded provider responses (fails loudly when ../shared is missing)."""
    assert PROVIDER_DATA.is_dir(), f"shared provider responses not found at {PROVIDER_DATA}"
    return Recorded(PROVIDER_DATA)
