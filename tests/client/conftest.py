"""Fixtures of the client tests: one real ``convoledger serve`` per module and backend (SQLite
file, PostgreSQL), started with ``serve_process.running_serve`` (fresh accounts ``a`` and ``b``),
and a blocking client of account ``a``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from client_helpers import token_of

from convoledger.client import Client
from serve_process import ServeProcess, running_serve

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServeProcess]:
    """A real server for the whole module, on a fresh SQLite file or the test PostgreSQL database."""
    base = tmp_path_factory.mktemp(f"client-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{base / 'ledger.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    backups = base / "backups"
    with running_serve(url, log_dir=base, env={"CONVOLEDGER_BACKUP_DIR": str(backups)}) as proc:
        proc.backup_dir = backups  # type: ignore[attr-defined]
        yield proc


@pytest.fixture
def api(served: ServeProcess) -> Iterator[Client]:
    """A blocking client authenticated as account ``a``."""
    with Client(served.base_url, token_of(served, "a"), backoff=0.01) as client:
        yield client
