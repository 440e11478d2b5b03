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
from convoledger.store.querying import matches_search, tokenize_for_search
from convoledger.store.sql import SqlStore
from convoledger.store.sql.codec import Codec
from convoledger.store.sql.search import INDEX_BATCH_ROWS, SQLITE_PENDING
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
    """Row ids the FTS5 index holds for ``word`` (as indexed now: pending rows are not)."""
    raw = _raw(tmp_path)
    try:
        rows = raw.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", (f'"{word}"',))
        return {r[0] for r in rows}
    finally:
        raw.close()


def _watermark(tmp_path: Path) -> tuple[int, int]:
    """``(indexed_upto, max(row_id))`` of the deferred search index."""
    raw = _raw(tmp_path)
    try:
        indexed, newest = raw.execute(SQLITE_PENDING).fetchone()
        return int(indexed), int(newest)
    finally:
        raw.close()


def _fts_consistent(tmp_path: Path) -> None:
    """FTS5's own check that the index matches the content table (raises when it does not;
    holds only when no row is pending)."""
    raw = _raw(tmp_path)
    try:
        raw.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
    finally:
        raw.close()


async def _indexed(tmp_path: Path, store: SqlStore, owner: str, conv_id: str, word: str) -> set[int]:
    """``_fts_rowids`` after a store search (which first indexes whatever is pending)."""
    await store.count_messages(owner, conv_id, MessageQuery(search=word))
    return _fts_rowids(tmp_path, word)


async def test_fts_index_follows_every_change(tmp_path: Path, store: SqlStore, owner: str) -> None:
    conv = await store.create_conversation(owner, ConversationRecord(owner_id=owner))

    async def indexed(word: str) -> set[int]:
        return await _indexed(tmp_path, store, owner, conv.id, word)

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
    assert len(await indexed("apple")) == 1
    _fts_consistent(tmp_path)

    await store.edit_message(owner, conv.id, a.id, {"content": "alpha apricot"})
    assert await indexed("apple") == set()
    assert len(await indexed("apricot")) == 1
    await store.edit_message(owner, conv.id, a.id, {"pinned": True})  # no content change
    assert len(await indexed("apricot")) == 1

    await store.redact_message(owner, conv.id, b.id, marker="[gone]")
    assert await indexed("banana") == set()
    assert len(await indexed("gone")) == 1

    await store.delete_message(owner, conv.id, c.id)
    assert await indexed("cherry") == set()
    popped = await store.pop_message(owner, conv.id)
    assert popped is not None and popped.id == d.id
    assert await indexed("date") == set()
    _fts_consistent(tmp_path)

    [e] = await store.append_messages(
        owner, conv.id, [MessageRecord(role="user", content="epsilon elderberry")]
    )
    assert await store.clear_messages(owner, conv.id) == 3
    assert await indexed("elderberry") == set() and await indexed("apricot") == set()

    await store.append_messages(owner, conv.id, [MessageRecord(role="user", content="zeta fig")])
    assert len(await indexed("fig")) == 1
    await store.delete_conversation(owner, conv.id)  # cascade deletes fire the delete trigger
    assert _fts_rowids(tmp_path, "fig") == set()
    _fts_consistent(tmp_path)


async def test_appends_are_indexed_in_batches_behind_a_watermark(
    tmp_path: Path, store: SqlStore, owner: str
) -> None:
    conv = await store.create_conversation(owner, ConversationRecord(owner_id=owner))
    texts = real_texts(INDEX_BATCH_ROWS + 40)
    head, tail = texts[: INDEX_BATCH_ROWS - 1], texts[INDEX_BATCH_ROWS - 1 :]
    for text in head[:3]:
        await store.append_messages(owner, conv.id, [MessageRecord(role="user", content=text)])
    await store.append_messages(owner, conv.id, [MessageRecord(role="user", content=t) for t in head[3:]])
    # One row short of a batch: nothing indexed yet, every row pending.
    assert _watermark(tmp_path) == (0, INDEX_BATCH_ROWS - 1)
    assert _fts_rowids(tmp_path, "needle") == set()
    [needle] = await store.append_messages(
        owner, conv.id, [MessageRecord(role="user", content="a needle in the pending rows")]
    )
    # That append made a full batch: it indexed every pending row itself, before any search.
    assert _watermark(tmp_path) == (INDEX_BATCH_ROWS, INDEX_BATCH_ROWS)
    assert len(_fts_rowids(tmp_path, "needle")) == 1
    _fts_consistent(tmp_path)
    await store.append_messages(owner, conv.id, [MessageRecord(role="user", content=t) for t in tail[:5]])
    assert _watermark(tmp_path) == (INDEX_BATCH_ROWS, INDEX_BATCH_ROWS + 5)
    # A search sees every committed message: pending rows are indexed first.
    stored = await store.list_messages(owner, conv.id, MessageQuery())
    query = sorted(tokenize_for_search(tail[4]))[0]
    expected = [m.id for m in stored if matches_search(m.content, query)]
    assert stored[-1].id in expected
    assert [m.id for m in await store.list_messages(owner, conv.id, MessageQuery(search=query))] == expected
    assert _watermark(tmp_path) == (INDEX_BATCH_ROWS + 5, INDEX_BATCH_ROWS + 5)
    _fts_consistent(tmp_path)
    assert needle.seq == INDEX_BATCH_ROWS


async def test_edits_and_deletes_of_pending_rows_keep_the_index_exact(
    tmp_path: Path, store: SqlStore, owner: str
) -> None:
    conv = await store.create_conversation(owner, ConversationRecord(owner_id=owner))
    a, b = await store.append_messages(
        owner, conv.id, [MessageRecord(role="user", content=w) for w in ("old apple", "kept berry")]
    )
    assert await store.count_messages(owner, conv.id, MessageQuery(search="apple")) == 1
    indexed = _watermark(tmp_path)[0]
    c, d, e = await store.append_messages(
        owner,
        conv.id,
        [MessageRecord(role="user", content=w) for w in ("pending cherry", "pending date", "pending elder")],
    )
    assert _watermark(tmp_path) == (indexed, indexed + 3)
    # Below the watermark the triggers change the index; above it they must not touch it.
    await store.edit_message(owner, conv.id, a.id, {"content": "new apricot"})
    await store.edit_message(owner, conv.id, c.id, {"content": "pending cranberry"})
    await store.redact_message(owner, conv.id, d.id, marker="[gone]")
    await store.delete_message(owner, conv.id, b.id)
    assert _watermark(tmp_path)[0] == indexed  # b was not the newest row
    assert _fts_rowids(tmp_path, "cranberry") == set()  # still pending
    popped = await store.pop_message(owner, conv.id)  # e: the newest row, pending
    assert popped is not None and popped.id == e.id

    async def found(word: str) -> list[str]:
        return [m.id for m in await store.list_messages(owner, conv.id, MessageQuery(search=word))]

    assert await found("apple") == [] and await found("apricot") == [a.id]
    assert await found("berry") == [] and await found("elder") == []
    assert await found("cherry") == [] and await found("cranberry") == [c.id]
    assert await found("date") == [] and await found("gone") == [d.id]
    assert await found("pending") == [c.id]
    _fts_consistent(tmp_path)


async def test_row_ids_reused_after_deleting_the_newest_rows_get_indexed(
    tmp_path: Path, store: SqlStore, owner: str
) -> None:
    conv = await store.create_conversation(owner, ConversationRecord(owner_id=owner))
    await store.append_messages(
        owner, conv.id, [MessageRecord(role="user", content=w) for w in ("one", "two", "three")]
    )
    assert await store.count_messages(owner, conv.id, MessageQuery(search="three")) == 1
    assert _watermark(tmp_path) == (3, 3)
    await store.pop_message(owner, conv.id)
    # The newest indexed row is gone: the watermark comes down with it ...
    assert _watermark(tmp_path) == (2, 2)
    [again] = await store.append_messages(owner, conv.id, [MessageRecord(role="user", content="reused")])
    # ... because SQLite hands its row id out again; above the watermark, it is indexed later.
    assert _watermark(tmp_path) == (2, 3)
    assert again.seq == 4  # seq is never reused, the row id is

    async def found(word: str) -> list[str]:
        return [m.id for m in await store.list_messages(owner, conv.id, MessageQuery(search=word))]

    assert await found("reused") == [again.id]
    assert await store.clear_messages(owner, conv.id) == 3
    assert _watermark(tmp_path) == (0, 0)
    [fresh] = await store.append_messages(owner, conv.id, [MessageRecord(role="user", content="fresh")])
    assert await found("fresh") == [fresh.id]
    _fts_consistent(tmp_path)


async def test_a_search_sees_rows_another_connection_left_pending(tmp_path: Path, owner: str) -> None:
    url = sqlite_url(tmp_path / "ledger.db")
    writer, searcher = SqlStore(url), SqlStore(url)
    await writer.open()
    await searcher.open()
    try:
        conv = await writer.create_conversation(owner, ConversationRecord(owner_id=owner))
        stored = await writer.append_messages(
            owner, conv.id, [MessageRecord(role="user", content=f"note {i} zebra") for i in range(5)]
        )
        assert _watermark(tmp_path) == (0, 5)
        found = await searcher.list_messages(owner, conv.id, MessageQuery(search="zebra", last=2))
        assert [m.id for m in found] == [m.id for m in stored[-2:]]
        assert await searcher.count_messages(owner, conv.id, MessageQuery(search="note")) == 5
    finally:
        await writer.close()
        await searcher.close()


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


async def test_plain_rows_read_back_as_independent_validated_records(store: SqlStore, owner: str) -> None:
    # Rows whose sparse columns are all NULL are decoded from a shared template of field values
    # (codec._SPARSE_NULL_FIELDS): each record must still own its values, in field order.
    conv = await store.create_conversation(owner, ConversationRecord(owner_id=owner))
    sent = [MessageRecord(role="user", content=f"plain {i}", created_at=T0) for i in range(2)]
    await store.append_messages(owner, conv.id, sent)
    first, second = await store.list_messages(owner, conv.id, MessageQuery(last=2))
    validated = MessageRecord.model_validate(first.model_dump())
    assert first == validated and list(vars(first)) == list(vars(validated))
    assert first.model_fields_set == validated.model_fields_set
    first.content = "changed locally"
    first.metadata["k"] = "v"
    assert second.content == "plain 1" and second.metadata == {}
    again = await store.list_messages(owner, conv.id, MessageQuery(last=2))
    assert [m.content for m in again] == ["plain 0", "plain 1"]
    assert [m.metadata for m in again] == [{}, {}]


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"token_count": 0},
        {"extra_data": False},
        {"extra_data": ""},
        {"extra_data": {"quote": 'a "b" \\ c', "emoji": "🤖", "n": [0, -1.5e-300, 2**62]}},
        {"tool_calls": []},
        {"sender": "ü-agent", "recipient": None},
        {"message_type": "note", "tool_name": "t", "tool_call_id": "c"},
        {"updated_at": T0 + timedelta(microseconds=1)},
        {"metadata": {"k": "v"}},
        {"metadata": {"nested": {"": [None, True]}}},
        {"pinned": True},
        {"redacted": True},
        {"pinned": True, "redacted": True, "metadata": {"a": 1}, "token_count": 3},
    ],
)
async def test_reads_unpack_the_sparse_columns_exactly(
    store: SqlStore, owner: str, fields: dict[str, object]
) -> None:
    # SQLite reads pack the usually-empty columns into one JSON array (codec.SQLITE_SPARSE_COLUMNS).
    conv = await store.create_conversation(owner, ConversationRecord(owner_id=owner))
    original = MessageRecord(role="tool", content="x", created_at=T0, **fields)
    [stored] = await store.append_messages(owner, conv.id, [original])
    [read] = await store.list_messages(owner, conv.id, MessageQuery(last=1))
    assert read == stored == original.model_copy(update={"conversation_id": conv.id, "seq": 1})
    assert read.model_dump() == MessageRecord.model_validate(read.model_dump()).model_dump()
    assert await store.get_message(owner, conv.id, original.id) == stored


def test_codec_decodes_what_it_encodes() -> None:
    codec = Codec("sqlite")
    m = MessageRecord(role="tool", content="résumé 🤖", tool_call_id="c1", created_at=T0, extra_data=[1])
    row = codec.message_row(m, 7, 3)
    assert row[0] == 7 and row[1] == 3 and row[-1] == "résumé"
    back = codec.message_from_insert(row, "conv")
    assert back == m.model_copy(update={"conversation_id": "conv", "seq": 3})
