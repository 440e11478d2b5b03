"""PostgreSQL wakes live streams from the store's own statements (migration
``0007_notify_in_statements``): every commit that writes events sends one ``NOTIFY
convoledger_events`` carrying the account's key, a write that is refused sends none, and the old
trigger is gone (and comes back on downgrade)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from convoledger.backends import open_ledger
from convoledger.errors import ConversationNotActive
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.store.outbox import PG_CHANNEL, owner_key
from convoledger.store.sql import migrate


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class _Listener:
    """A raw asyncpg LISTEN on the events channel, collecting payloads."""

    def __init__(self) -> None:
        self.payloads: list[str] = []
        self.conn: asyncpg.Connection | None = None

    async def start(self, url: str) -> None:
        self.conn = await asyncpg.connect(_dsn(url))
        await self.conn.add_listener(PG_CHANNEL, lambda _c, _pid, _ch, payload: self.payloads.append(payload))

    async def settle(self) -> list[str]:
        """The payloads so far, after a round trip (delivered notifications are dispatched)."""
        assert self.conn is not None
        await self.conn.execute("SELECT 1")
        await asyncio.sleep(0.05)
        got, self.payloads = self.payloads, []
        return got

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()


async def test_each_commit_that_writes_events_notifies_once_with_the_owner_key(
    scratch_postgres_url: str,
) -> None:
    owner = f"owner-{uuid.uuid4().hex[:8]}"
    key = owner_key(owner)
    listener = _Listener()
    await listener.start(scratch_postgres_url)
    try:
        async with open_ledger(scratch_postgres_url, owner=owner) as ledger:
            await listener.settle()
            conv = await ledger.create_conversation(ConversationRecord(owner_id=owner, session_id="s"))
            assert await listener.settle() == [key]  # a transaction through record_events

            await ledger.append(conv, MessageRecord(role="user", content="one"))
            assert await listener.settle() == [key]  # the one-message append statement

            await ledger.append_batch(conv, [MessageRecord(role="user", content=f"m{i}") for i in range(5)])
            assert await listener.settle() == [key]  # the batch append statement: once, not per message

            await ledger.append_batch("s", [MessageRecord(role="user", content="by reference")])
            assert await listener.settle() == [key]

            await ledger.deactivate(conv)
            assert await listener.settle() == [key]
            with pytest.raises(ConversationNotActive):
                await ledger.append(conv, MessageRecord(role="user", content="refused"))
            assert await listener.settle() == []  # nothing written, nobody woken
    finally:
        await listener.close()


async def _downgrade(url: str, revision: str) -> None:
    from alembic import command
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(lambda c: command.downgrade(migrate.alembic_config(c), revision))
            await conn.commit()
    finally:
        await engine.dispose()


async def test_the_event_trigger_is_dropped_and_restored_on_downgrade(scratch_postgres_url: str) -> None:
    async with open_ledger(scratch_postgres_url, owner="o"):
        pass
    conn = await asyncpg.connect(_dsn(scratch_postgres_url))
    try:
        trigger_sql = "SELECT count(*) FROM pg_trigger WHERE tgname = 'ledger_events_notify'"
        assert await conn.fetchval(trigger_sql) == 0
        await _downgrade(scratch_postgres_url, "0006_maintenance")
        assert await conn.fetchval(trigger_sql) == 1
    finally:
        await conn.close()
