"""Fixtures of the hardening tests (issue 16 items 1-5): a real ``convoledger serve`` per module
and backend (SQLite, then PostgreSQL), started with short limits so that the timeout and size
tests run in seconds: ``--body-timeout 1 --header-timeout 1 --keep-alive-timeout 1
--max-body-bytes 65536``."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from serve_process import ServeProcess, running_serve

#: The ``serve`` options every hardening server runs with.
SERVE_ARGS = (
    "--body-timeout",
    "1",
    "--header-timeout",
    "1",
    "--keep-alive-timeout",
    "1",
    "--max-body-bytes",
    "65536",
)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hard(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """A ``convoledger serve`` with ``SERVE_ARGS`` on a fresh SQLite file, then on PostgreSQL."""
    base = tmp_path_factory.mktemp(f"hardening-{request.param}")
    url = (
        f"sqlite:///{base / 'ledger.db'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    with running_serve(url, log_dir=base, args=SERVE_ARGS) as proc:
        yield proc


@pytest.fixture
def client(hard: ServeProcess) -> Iterator[httpx.Client]:
    """An httpx client of ``hard``, authenticated as account ``a``."""
    with hard.client("a") as c:
        yield c
