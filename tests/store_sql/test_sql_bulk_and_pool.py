"""``SqlStore.import_conversations`` (the bulk path) on both databases, and the PostgreSQL
connection pool's handling of connections left inside a transaction."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sql_test_helpers import real_texts, sqlite_url

from convoledger.errors import Conflict
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.store.base import ConversationQuery, MessageQuery
from convoledger.store.sql import SqlStore, migrate
from convoledger.store.sql.pg_driver import ConnectionPool

T0 = datetime(2023, 3, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite file or the test PostgreSQL server (resolved outside the event loop)."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "bulk.db")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[SqlStore]:
    s = SqlStore(store_url)
    await s.open()
    yield s
    await s.close()


def _messages(texts: list[str]) -> list[MessageRecord]:
    return [
        MessageRecord(
            role="user" if i % 2 else "assistant", content=t, seq=i + 1, created_at=T0 + timedelta(seconds=i)
        )
        for i, t in enumerate(texts)
    ]


async def test_bulk_import_reports_each_item_and_isolates_refusals(store: SqlStore) -> None:
    owner = f"owner-{uuid.uuid4()}"
    texts = real_texts(400)
    taken = await store.create_conversation(owner, ConversationRecord(owner_id=owner, session_id="taken"))
    good = [ConversationRecord(owner_id=owner, name=f"c{i}") for i in range(6)]
    bad_seq = [*_messages(texts[:3])]
    bad_seq[2] = bad_seq[2].model_copy(update={"seq": 1})
    items = [
        (good[0], _messages(texts[0:50])),
        (ConversationRecord(owner_id=owner, session_id="taken"), _messages(texts[50:60])),  # Conflict
        (good[1], _messages(texts[60:120])),
        (ConversationRecord(owner_id=owner), bad_seq),  # ValueError, refused before writing
        (good[2], []),
        (good[3], _messages(texts[120:300])),
        (ConversationRecord(owner_id=owner, id=good[3].id), _messages(texts[300:310])),  # earlier item's id
        (good[4], _messages(texts[310:390])),
    ]
    # Small groups: several transactions, savepoints inside each.
    results = await store.import_conversations(owner, items, group_messages=100)
    assert len(results) == len(items)
    assert isinstance(results[1], Conflict) and isinstance(results[6], Conflict)
    assert isinstance(results[3], ValueError) and not isinstance(results[3], Conflict)
    stored = [r for i, r in enumerate(results) if i not in (1, 3, 6)]
    assert all(isinstance(r, ConversationRecord) for r in stored)
    expected_counts = {good[0].id: 50, good[1].id: 60, good[2].id: 0, good[3].id: 180, good[4].id: 80}
    for conv_id, count in expected_counts.items():
        got = await store.get_conversation(owner, conv_id)
        assert (got.message_count, got.last_seq) == (count, count)
        msgs = await store.list_messages(owner, conv_id, MessageQuery())
        assert [m.seq for m in msgs] == list(range(1, count + 1))
    # The refused conversation left nothing behind; the taken one is untouched.
    page = await store.list_conversations(owner, ConversationQuery())
    assert page.total == 6
    assert (await store.get_conversation(owner, taken.id)).message_count == 0
    with pytest.raises(ValueError):
        await store.import_conversations(owner, [], group_messages=0)


@pytest.mark.postgres
async def test_pool_never_reuses_a_connection_left_in_a_transaction(postgres_url: str) -> None:
    pool = ConnectionPool(migrate.asyncpg_dsn(postgres_url), max_size=2)
    try:
        conn = await pool.acquire()
        await conn.execute("BEGIN")
        pool.release(conn)  # e.g. an operation cancelled mid-transaction
        assert conn.is_closed()
        again = await pool.acquire()
        assert again is not conn and not again.is_in_transaction()
        assert await again.fetchval("SELECT 1") == 1
        pool.release(again)
        assert await pool.acquire() is again  # a clean connection is reused
        pool.release(again)
    finally:
        await pool.close()
    with pytest.raises(RuntimeError):
        await pool.acquire()


@pytest.mark.postgres
async def test_pool_bounds_connections_and_hands_them_over(postgres_url: str) -> None:
    pool = ConnectionPool(migrate.asyncpg_dsn(postgres_url), max_size=1)
    try:
        first = await pool.acquire()
        waiter = asyncio.ensure_future(pool.acquire())
        await asyncio.sleep(0.05)
        assert not waiter.done()  # the only connection is busy
        pool.release(first)
        assert await asyncio.wait_for(waiter, 5) is first
        pool.release(first)
    finally:
        await pool.close()
    with pytest.raises(ValueError):
        ConnectionPool("postgresql://x", max_size=0)


@pytest.mark.postgres
async def test_cancelled_bulk_import_leaves_whole_conversations_and_a_usable_store(postgres_url: str) -> None:
    owner = f"owner-{uuid.uuid4()}"
    store = SqlStore(postgres_url, pool_size=2)
    await store.open()
    try:
        conv = await store.create_conversation(owner, ConversationRecord(owner_id=owner))
        big = [MessageRecord(role="user", content=t) for t in real_texts(1500)]
        task = asyncio.ensure_future(
            store.import_conversations(
                owner,
                [(conv, [])]
                + [
                    (
                        ConversationRecord(owner_id=owner),
                        [m.model_copy(update={"seq": i + 1}) for i, m in enumerate(big)],
                    )
                    for _ in range(4)
                ],
            )
        )
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # Each conversation was imported whole or not at all.
        page = await store.list_conversations(owner, ConversationQuery(limit=100))
        assert {c.message_count for c in page.items if c.id != conv.id} <= {1500}
        # The store keeps working on the connections it still has or opens anew.
        for _ in range(5):
            [m] = await store.append_messages(owner, conv.id, [MessageRecord(role="user", content="after")])
        assert m.seq == 5
        got = await store.get_conversation(owner, conv.id)
        assert (got.message_count, got.last_seq) == (5, 5)
    finally:
        await store.close()
