"""Fixtures of the integration tests: a ``Ledger`` over every backend (fresh owner per test) and
one real ``convoledger serve`` per module and backend (``serve_process.running_serve``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from convoledger.backends import open_ledger
from convoledger.ledger import Ledger
from serve_process import ServeProcess, running_serve


@pytest.fixture(autouse=True, scope="session")
def _no_sdk_tracing() -> None:
    """The Agents SDK would try to export traces to OpenAI at exit: off in tests (no network)."""
    try:
        from agents import set_tracing_disabled
    except ImportError:
        return
    set_tracing_disabled(True)


def ledger_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh ledger on ``backend`` (memory, jsonfiles, sqlite, postgres)."""
    if backend == "memory":
        return "memory://"
    if backend == "jsonfiles":
        return f"jsonfiles://{tmp_path / 'ledger'}"
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(
    params=["memory", "jsonfiles", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Ledger]:
    """An open ledger on each backend, for a fresh owner."""
    url = ledger_url(request.param, request, tmp_path)
    async with open_ledger(url, owner=f"owner-{uuid.uuid4().hex[:10]}") as opened:
        yield opened


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServeProcess]:
    """A real server for the whole module (accounts ``a`` and ``b``), on a fresh SQLite file or
    the test PostgreSQL database."""
    base = tmp_path_factory.mktemp(f"integrations-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{base / 'ledger.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    with running_serve(url, log_dir=base) as proc:
        yield proc
