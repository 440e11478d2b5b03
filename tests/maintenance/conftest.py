"""Fixtures of the maintenance tests: a ledger on each backend with its ``Maintenance`` (journal,
backup store in ``tmp_path``), and builders of time-travelled sessions (old ``created_at`` and
last activity written through the store, so no test sleeps for hours)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from convoledger.backends import open_ledger
from convoledger.ledger import Ledger
from convoledger.maintenance import BackupStore, Maintenance, journal_for_store
from convoledger.maintenance.monitoring import MaintenanceMetrics
from convoledger.models.maintenance import MaintenancePolicy
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.models.status import ConversationStatus

BACKENDS = ["memory", "jsonfiles", "sqlite", "postgres"]

MakeMaintenance = Callable[..., Awaitable[Maintenance]]


@pytest.fixture(scope="session")
def maintenance_postgres_url(postgres_url: str) -> str:
    """A PostgreSQL database of the maintenance tests' own, ``<test database>_maintenance``
    (created when missing): a maintenance pass acts on every account of its database, so it
    must not time out or delete what other tests, perhaps running at the same time, create."""
    import asyncpg

    url = make_url(postgres_url)
    name = f"{url.database}_maintenance"

    async def create() -> None:
        conn = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                try:
                    await conn.execute(f'CREATE DATABASE "{name}"')
                except asyncpg.DuplicateDatabaseError:
                    pass  # another test process created it meanwhile
        finally:
            await conn.close()

    with ThreadPoolExecutor(max_workers=1) as pool:  # this fixture may be asked for inside a loop
        pool.submit(asyncio.run, create()).result()
    return url.set(database=name).render_as_string(hide_password=False)


def ledger_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The URL of a fresh ledger of ``backend`` (PostgreSQL: the maintenance tests' database)."""
    if backend == "memory":
        return "memory://"
    if backend == "jsonfiles":
        return f"jsonfiles://{tmp_path / 'ledger'}"
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("maintenance_postgres_url"))


@pytest.fixture(params=BACKENDS)
async def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Ledger]:
    """An opened ledger of each backend (owner: a fresh account)."""
    the_ledger = open_ledger(
        ledger_url(request.param, tmp_path, request), owner=f"acct-{uuid.uuid4().hex[:10]}"
    )
    await the_ledger.open()
    try:
        yield the_ledger
    finally:
        await the_ledger.close()


@pytest.fixture
async def make_maintenance(ledger: Ledger, tmp_path: Path) -> AsyncIterator[MakeMaintenance]:
    """``await make_maintenance(**policy_fields)``: a ``Maintenance`` of ``ledger`` with backups
    in ``tmp_path/backups`` (``backups=`` another root) and Prometheus metrics."""
    made: list[Maintenance] = []

    async def make(backups: Path | None = None, **policy: Any) -> Maintenance:
        m = Maintenance(
            ledger=ledger,
            journal=journal_for_store(ledger.store),
            backups=BackupStore(backups or tmp_path / "backups"),
            policy=MaintenancePolicy(**policy),
            metrics=MaintenanceMetrics(),
        )
        await m.journal.open()
        made.append(m)
        return m

    yield make
    for m in made:
        await m.journal.close()


def ago(seconds: float) -> datetime:
    """Now minus ``seconds`` (aware UTC)."""
    return datetime.now(UTC) - timedelta(seconds=seconds)


async def make_session(
    ledger: Ledger,
    *,
    created: float,
    idle: float,
    status: ConversationStatus = ConversationStatus.ACTIVE,
    messages: int = 0,
) -> ConversationRecord:
    """A session of ``ledger.owner`` created ``created`` s ago, last active ``idle`` s ago, in
    ``status``, with ``messages`` messages (dated within its life), restored as a bundle would be."""
    born, last = ago(created), ago(idle)
    record = ConversationRecord(
        owner_id=ledger.owner,
        session_id=f"s-{uuid.uuid4().hex[:12]}",
        status=status,
        created_at=born,
        updated_at=last,
        last_activity_at=last,
    )
    msgs = [
        MessageRecord(conversation_id=record.id, role="user", content=f"m{i}", created_at=last, seq=i + 1)
        for i in range(messages)
    ]
    if msgs:
        record = record.model_copy(update={"message_count": messages, "last_seq": messages})
    return await ledger.store.import_conversation(ledger.owner, record, msgs)
