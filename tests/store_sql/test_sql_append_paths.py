"""The two ways an append runs on PostgreSQL agree: the direct one-statement path the store uses
(``PgDriver.write`` of ``ops.append_plan``: one message as plain parameters, a batch as arrays)
and the same plan run through the synchronous bridge (``ops.append_messages``), including the
fallbacks (a retried id, a missing or closed conversation). SQLite: the search watermark must
exist."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sql_test_helpers import sqlite_url
from sqlalchemy.engine import make_url

from convoledger.errors import ConversationNotActive, NotFound
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.models.status import ConversationStatus
from convoledger.models.timeutil import utcnow
from convoledger.store.base import MessageQuery
from convoledger.store.sql import SqlStore, ops
from convoledger.store.sql.pg_driver import PgDriver

T0 = datetime(2024, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)


@pytest.fixture
async def pg_store(postgres_url: str) -> AsyncIterator[SqlStore]:
    s = SqlStore(postgres_url)
    await s.open()
    yield s
    await s.close()


def _full(text: str, **extra: Any) -> MessageRecord:
    """A message with every field set (JSON, flags, times, tool data)."""
    return MessageRecord(
        role="assistant",
        content=text,
        sender="agent-1",
        recipient="user-1",
        message_type="reply",
        tool_call_id="call-9",
        tool_name="lookup",
        tool_calls=[{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        extra_data={"n": [1, 2.5, None], "s": "ü"},
        metadata={"k": "v"},
        token_count=7,
        pinned=True,
        created_at=T0,
        updated_at=T0,
        **extra,
    )


async def _bridge(store: SqlStore, owner: str, conv_id: str, batch: list[MessageRecord]) -> Any:
    """``ops.append_messages`` run through the greenlet bridge (``run_statement_plan``)."""
    driver = store._driver
    assert isinstance(driver, PgDriver)
    return await driver.run(ops.append_messages, owner, conv_id, batch, utcnow(), write=True)


@pytest.mark.postgres
@pytest.mark.parametrize("size", [1, 3])
async def test_direct_and_bridged_appends_store_the_same(pg_store: SqlStore, size: int) -> None:
    owner = f"owner-{uuid.uuid4()}"
    direct = await pg_store.create_conversation(owner, ConversationRecord(owner_id=owner))
    bridged = await pg_store.create_conversation(owner, ConversationRecord(owner_id=owner))
    batch = [_full(f"message {i} über alles", id=f"m{i}") for i in range(size)]
    got_direct = await pg_store.append_messages(owner, direct.id, batch)
    got_bridged = await _bridge(pg_store, owner, bridged.id, batch)
    assert [m.seq for m in got_direct] == [m.seq for m in got_bridged] == list(range(1, size + 1))
    for a, b in zip(got_direct, got_bridged, strict=True):
        assert a.model_dump(exclude={"conversation_id"}) == b.model_dump(exclude={"conversation_id"})
    for conv_id, returned in ((direct.id, got_direct), (bridged.id, got_bridged)):
        assert await pg_store.list_messages(owner, conv_id, MessageQuery()) == returned
        found = await pg_store.list_messages(owner, conv_id, MessageQuery(search="über"))
        assert [m.id for m in found] == [m.id for m in batch]
        # Retries return the originals and store nothing (both paths fall back under the lock).
        again = [_full("a retry", id=m.id) for m in batch] + [_full("new", id="fresh")]
        retried = await pg_store.append_messages(owner, conv_id, again)
        assert [m.seq for m in retried] == [*range(1, size + 1), size + 1]
        bridged_retry = await _bridge(pg_store, owner, conv_id, [_full("x", id="m0")])
        assert [m.content for m in bridged_retry] == ["message 0 über alles"]
        got = await pg_store.get_conversation(owner, conv_id)
        assert (got.message_count, got.last_seq) == (size + 1, size + 1)


@pytest.mark.postgres
async def test_direct_and_bridged_appends_refuse_alike(pg_store: SqlStore) -> None:
    owner = f"owner-{uuid.uuid4()}"
    missing = str(uuid.uuid4())
    closed = await pg_store.create_conversation(owner, ConversationRecord(owner_id=owner))
    await pg_store.transition(owner, closed.id, ConversationStatus.INACTIVE)
    for size in (1, 2):
        batch = [MessageRecord(role="user", content=f"m{i}") for i in range(size)]
        with pytest.raises(NotFound):
            await pg_store.append_messages(owner, missing, batch)
        with pytest.raises(NotFound):
            await _bridge(pg_store, owner, missing, batch)
        with pytest.raises(ConversationNotActive):
            await pg_store.append_messages(owner, closed.id, batch)
        with pytest.raises(ConversationNotActive):
            await _bridge(pg_store, owner, closed.id, batch)
    assert (await pg_store.get_conversation(owner, closed.id)).last_seq == 0


async def test_a_missing_search_watermark_is_a_clear_error(tmp_path: Path) -> None:
    owner = f"owner-{uuid.uuid4()}"
    store = SqlStore(sqlite_url(tmp_path / "ledger.db"))
    await store.open()
    try:
        conv = await store.create_conversation(owner, ConversationRecord(owner_id=owner))
        raw = sqlite3.connect(tmp_path / "ledger.db")
        try:
            raw.execute("DELETE FROM messages_fts_state")
            raw.commit()
        finally:
            raw.close()
        with pytest.raises(RuntimeError, match="messages_fts_state"):
            await store.append_messages(owner, conv.id, [MessageRecord(role="user", content="x")])
        assert await store.list_messages(owner, conv.id, MessageQuery()) == []  # rolled back
    finally:
        await store.close()


@pytest.mark.postgres
async def test_recent_n_reads_keep_a_generic_plan(scratch_postgres_url: str) -> None:
    # A recent-N read is planned once per connection, not on every call (querybuild._window_bound):
    # with the LIMIT as a plain parameter, a conversation estimated at hundreds of rows made
    # PostgreSQL prefer a custom plan, i.e. re-plan each time.
    owner = f"owner-{uuid.uuid4()}"
    store = SqlStore(scratch_postgres_url)
    await store.open()
    try:
        big = ConversationRecord(owner_id=owner)
        messages = [MessageRecord(role="user", content=f"m{i}", seq=i + 1) for i in range(3000)]
        await store.import_conversation(owner, big, messages)
        small = await store.create_conversation(owner, ConversationRecord(owner_id=owner))
        await store.append_messages(owner, small.id, [MessageRecord(role="user", content="x")])
        driver = store._driver
        assert isinstance(driver, PgDriver) and driver._pool is not None
        conn = await driver._pool.acquire()
        try:
            await conn.execute("ANALYZE messages")
        finally:
            driver._pool.release(conn)
        for _ in range(12):
            got = await store.list_messages(owner, big.id, MessageQuery(last=20))
            assert [m.seq for m in got] == list(range(2981, 3001))
        conn = await driver._pool.acquire()
        try:
            plans = await conn.fetch(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                "WHERE statement LIKE '%FROM messages%ORDER BY messages.seq DESC%' "
                "AND statement NOT LIKE '%pg_prepared_statements%'"
            )
        finally:
            driver._pool.release(conn)
        assert len(plans) == 1
        assert plans[0]["generic_plans"] >= 6 and plans[0]["custom_plans"] <= 6, dict(plans[0])
    finally:
        await store.close()


@pytest.mark.postgres
async def test_a_burst_of_appends_updates_the_conversation_row_hot(scratch_postgres_url: str) -> None:
    # querying.activity_after_append: within 1 s an append writes updated_at/last_activity_at
    # back unchanged, so PostgreSQL can update the conversation row without new index entries
    # (a HOT update). Had an append set updated_at to now (a listing-index column), none would be.
    owner = f"owner-{uuid.uuid4()}"
    store = SqlStore(scratch_postgres_url)
    await store.open()
    try:
        conv = await store.create_conversation(owner, ConversationRecord(owner_id=owner))
        for i in range(20):
            one = MessageRecord(role="user", content=f"m{i}", created_at=T0)
            await store.append_messages(owner, conv.id, [one])
        for i in range(10):
            batch = [MessageRecord(role="user", content=f"b{i}-{k}", created_at=T0) for k in range(3)]
            await store.append_messages(owner, conv.id, batch)
    finally:
        await store.close()  # the server flushes a backend's statistics when it exits
    dsn = make_url(scratch_postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(50):
            row = await conn.fetchrow(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'conversations'"
            )
            if row is not None and row["n_tup_upd"] >= 30:
                break
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    assert row is not None and row["n_tup_upd"] == 30, dict(row or {})
    # The first append sets last_activity_at (the first message's time); a slow machine may cross
    # a second boundary or two; every other update is HOT.
    assert row["n_tup_hot_upd"] >= 26, dict(row)
