"""SQLite specifics of the SQL store: connection settings (WAL), the FTS5 index kept in sync by
triggers through every kind of change, the on-disk formats, in-memory databases, large batches,
and records built from trusted rows."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sql_test_helpers import real_texts, sqlite_url

from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.store.base import MessageQuery
from convoledger.store.sql import SqlStore
from convoledger.store.sql.codec import Codec
from convoledger.store.sql.sqlite_driver import connect

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    s = SqlStore(sqlite_url(tmp_path / "ledger.db"))
    await s.open()
    yield s
    await s.close()


def _raw(tmp_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(tmp_path / "ledger.db")


async def test_connections_use_wal_normal_sync_and_foreign_keys(tmp_path: Path, store: SqlStore) -> None:
    raw = _raw(tmp_path)
    try:
        # journal_mode is a property of the file: any new connection sees WAL.
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()
    conn = connect(str(tmp_path / "ledger.db"), busy_timeout=7.5)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 7500
        assert conn.isolation_level is None  # the store issues BEGIN IMMEDIATE itself
        assert conn.execute("SELECT convoledger_lower('ÄRGER')").fetchone()[0] == "ärger"
    finally:
        conn.close()


def _fts_rowids(tmp_path: Path, word: str) -> set[int]:
    raw = _raw(tmp_path)
    try:
        rows = raw.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", (f'"{word}"',))
        return {r[0] for r in rows}
    finally:
        raw.close()


def _fts_consistent(tmp_path: Path) -> None:
    """FTS5's own check that the index matches the content table (raises when it does not)."""
    raw = _raw(tmp_path)
    try:
        raw.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
    finally:
        raw.close()


async def test_fts_index_follows_every_change(tmp_path: Path, store: SqlStore, owner: str) -> None:
    conv = await store.create_conversation(owner, ConversationRecord(owner_id=owner))
    a, b, c, d = await store.append_messages(
        owner,
        conv.id,
        [
            MessageRecord(role="user", content="alpha apple"),
            MessageRecord(role="user", content="beta banana"),
            MessageRecord(role="user", content="gamma cherry"),
            MessageRecord(role="user", content="delta date"),
        ],
    )
    assert len(_fts_rowids(tmp_path, "apple")) == 1
    _fts_consistent(tmp_path)

    await store.edit_message(owner, conv.id, a.id, {"content": "alpha apricot"})
    assert _fts_rowids(tmp_path, "apple") == set()
    assert len(_fts_rowids(tmp_path, "apricot")) == 1
    await store.edit_message(owner, conv.id, a.id, {"pinned": True})  # no content change
    assert len(_fts_rowids(tmp_path, "apricot")) == 1

    await store.redact_message(owner, conv.id, b.id, marker="[gone]")
    assert _fts_rowids(tmp_path, "banana") == set()
    assert len(_fts_rowids(tmp_path, "gone")) == 1

    await store.delete_message(owner, conv.id, c.id)
    assert _fts_rowids(tmp_path, "cherry") == set()
    popped = await store.pop_message(owner, conv.id)
    assert popped is not None and popped.id == d.id
    assert _fts_rowids(tmp_path, "date") == set()
    _fts_consistent(tmp_path)

    [e] = await store.append_messages(
        owner, conv.id, [MessageRecord(role="user", content="epsilon elderberry")]
    )
    assert await store.clear_messages(owner, conv.id) == 3
    assert _fts_rowids(tmp_path, "elderberry") == set() and _fts_rowids(tmp_path, "apricot") == set()

    await store.append_messages(owner, conv.id, [MessageRecord(role="user", content="zeta fig")])
    assert len(_fts_rowids(tmp_path, "fig")) == 1
    await store.delete_conversation(owner, conv.id)  # cascade deletes fire the delete trigger
    assert _fts_rowids(tmp_path, "fig") == set()
    _fts_consistent(tmp_path)


async def test_times_are_fixed_width_utc_text_and_come_back_aware(
    tmp_path: Path, store: SqlStore, owner: str
) -> None:
    conv = await store.create_conversation(owner, ConversationRecord(owner_id=owner))
    plus_two = datetime(2024, 5, 1, 14, 0, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))
    whole_second = T0
    [m1, m2] = await store.append_messages(
        owner,
        conv.id,
        [
            MessageRecord(role="user", content="x", created_at=plus_two),
            MessageRecord(role="user", content="y", created_at=whole_second),
        ],
    )
    raw = _raw(tmp_path)
    try:
        stored = [r[0] for r in raw.execute("SELECT created_at FROM messages ORDER BY seq")]
    finally:
        raw.close()
    assert stored == ["2024-05-01T14:00:00.000000+00:00", "2024-05-01T12:00:00.000000+00:00"]
    got = await store.list_messages(owner, conv.id, MessageQuery())
    assert [g.created_at for g in got] == [datetime(2024, 5, 1, 14, tzinfo=UTC), whole_second]
    assert all(g.created_at.utcoffset() == timedelta(0) for g in got)
    # Text order is time order, so a range filter on the text column is a time filter.
    since = await store.list_messages(owner, conv.id, MessageQuery(since=T0 + timedelta(microseconds=1)))
    assert [g.id for g in since] == [m1.id]


async def test_in_memory_database(owner: str) -> None:
    store = SqlStore("sqlite+aiosqlite:///:memory:")
    await store.open()
    try:
        conv = await store.create_conversation(owner, ConversationRecord(owner_id=owner))
        await store.append_messages(owner, conv.id, [MessageRecord(role="user", content="in memory")])
        [m] = await store.list_messages(owner, conv.id, MessageQuery(search="memory"))
        assert (m.seq, m.content) == (1, "in memory")
    finally:
        await store.close()
    await store.close()  # idempotent


async def test_large_batches_are_split_into_statements_and_stay_atomic(
    tmp_path: Path, store: SqlStore, owner: str
) -> None:
    texts = real_texts(3500)
    conv = await store.create_conversation(owner, ConversationRecord(owner_id=owner))
    # 3,500 rows x 19 values is more than one statement may bind: several multi-row INSERTs.
    stored = await store.append_messages(
        owner, conv.id, [MessageRecord(role="user", content=t) for t in texts]
    )
    assert [m.seq for m in stored] == list(range(1, 3501))
    assert await store.count_messages(owner, conv.id, MessageQuery()) == 3500
    _fts_consistent(tmp_path)
    # A duplicate id at the very end refuses nothing and stores only the new ones.
    again = await store.append_messages(
        owner, conv.id, [*stored[:2], MessageRecord(role="user", content="new")]
    )
    assert [m.seq for m in again] == [1, 2, 3501]


async def test_records_read_back_behave_like_validated_ones(store: SqlStore, owner: str) -> None:
    conv = await store.create_conversation(owner, ConversationRecord(owner_id=owner))
    original = MessageRecord(
        role="assistant",
        content="calling",
        tool_calls=[{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        extra_data={"n": [1, 2.5, None]},
        metadata={"k": "v"},
        token_count=3,
        pinned=True,
        created_at=T0,
    )
    await store.append_messages(owner, conv.id, [original])
    [read] = await store.list_messages(owner, conv.id, MessageQuery(last=1))
    validated = MessageRecord.model_validate(read.model_dump())
    assert read == validated
    assert read.model_dump() == validated.model_dump()
    assert read.model_fields_set == validated.model_fields_set
    assert read.tool_call_ids == ["c1"]
    read.content = "changed locally"  # assignment works (the fields-set is the record's own)
    assert read.model_copy(update={"seq": 9}).seq == 9
    assert (await store.get_message(owner, conv.id, original.id)).content == "calling"


def test_codec_decodes_what_it_encodes() -> None:
    codec = Codec("sqlite")
    m = MessageRecord(role="tool", content="résumé 🤖", tool_call_id="c1", created_at=T0, extra_data=[1])
    row = codec.message_row(m, 7, 3)
    assert row[0] == 7 and row[1] == 3 and row[-1] == "résumé"
    back = codec.message_from_insert(row, "conv")
    assert back == m.model_copy(update={"conversation_id": "conv", "seq": 3})
