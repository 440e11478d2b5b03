"""A ``Ledger`` over memory:// and a SQLite file (fresh owner per test) for the capture tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from convoledger.backends import open_ledger
from convoledger.ledger import Ledger


@pytest.fixture(params=["memory", "sqlite"])
async def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Ledger]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'ledger.db'}"
    async with open_ledger(url, owner=f"owner-{uuid.uuid4().hex[:10]}") as opened:
        yield opened
