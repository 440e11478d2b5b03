"""Shared fixtures: the PostgreSQL and Redis URLs the service tests need.

The URLs come from ``CONVOLEDGER_TEST_POSTGRES_URL`` / ``CONVOLEDGER_TEST_REDIS_URL``
(``bash .ci/run`` sets both). Without one, or when the server does not answer, a test that
needs it skips with a message saying how to start it, except under ``CI=true``, where it fails:
a skip in CI would hide a gap.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from serve_process import ServeProcess, running_serve

POSTGRES_HINT = (
    "start PostgreSQL with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start; "
    "then export CONVOLEDGER_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_HINT = (
    'start Redis with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log; "
    "then export CONVOLEDGER_TEST_REDIS_URL=redis://127.0.0.1:6379/0"
)


def _unavailable(what: str, hint: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is required under CI=true but is not reachable; {hint}")
    pytest.skip(f"{what} not available; {hint}")


async def _pg_ping(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    try:
        await conn.fetchval("SELECT 1")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy URL (``postgresql+asyncpg://…``) of the test PostgreSQL server."""
    url = os.environ.get("CONVOLEDGER_TEST_POSTGRES_URL")
    if not url:
        _unavailable("PostgreSQL (CONVOLEDGER_TEST_POSTGRES_URL unset)", POSTGRES_HINT)
        raise AssertionError("unreachable")
    import asyncpg

    try:
        # In a worker thread: this fixture may be requested from inside a running event loop.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, _pg_ping(url)).result()
    except (TimeoutError, OSError, ConnectionError, asyncpg.PostgresError) as exc:
        _unavailable(f"PostgreSQL at {url} ({exc})", POSTGRES_HINT)
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL (``redis://…``) of the test Redis server."""
    import redis

    url = os.environ.get("CONVOLEDGER_TEST_REDIS_URL")
    if not url:
        _unavailable("Redis (CONVOLEDGER_TEST_REDIS_URL unset)", REDIS_HINT)
        raise AssertionError("unreachable")
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5)
        client.ping()
        client.close()
    except redis.exceptions.ConnectionError as exc:
        _unavailable(f"Redis at {url} ({exc})", REDIS_HINT)
    return url


@pytest.fixture
def serve_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """A real ``convoledger serve`` on a fresh SQLite file, with accounts ``a`` and ``b``."""
    base = tmp_path_factory.mktemp("serve-sqlite")
    with running_serve(f"sqlite:///{base / 'ledger.db'}", log_dir=base) as proc:
        yield proc


@pytest.fixture
def serve_postgres(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """A real ``convoledger serve`` on the test PostgreSQL database, with fresh accounts ``a``
    and ``b`` (so no cleanup is needed)."""
    with running_serve(postgres_url, log_dir=tmp_path_factory.mktemp("serve-postgres")) as proc:
        yield proc


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def serve(request: pytest.FixtureRequest) -> ServeProcess:
    """``serve_sqlite`` and ``serve_postgres`` in turn: a test written once runs on both."""
    proc: ServeProcess = request.getfixturevalue(f"serve_{request.param}")
    return proc


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def serve_module(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServeProcess]:
    """Like ``serve``, but one server per test module and backend (SQLite, then PostgreSQL), for
    modules with many HTTP tests. Tests share the accounts ``a`` and ``b``: use fresh
    ``session_id`` values, or ``proc.new_account()`` where a test needs an empty account."""
    base = tmp_path_factory.mktemp(f"serve-module-{request.param}")
    url = (
        f"sqlite:///{base / 'ledger.db'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    with running_serve(url, log_dir=base) as proc:
        yield proc
