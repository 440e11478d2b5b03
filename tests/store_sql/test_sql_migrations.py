"""Schema creation and upgrades: Alembic head on an empty database, no-op reopen, head matches
``schema.py``, concurrent first opens (two processes on SQLite, two connections on PostgreSQL)."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sql_test_helpers import sqlite_url
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool, StaticPool

from convoledger.models.records import ConversationRecord, MessageRecord, ProviderCallRecord
from convoledger.store.base import MessageQuery
from convoledger.store.outbox import EventQuery
from convoledger.store.querying import prepare_conversation
from convoledger.store.sql import SqlStore, head_revision, migrate, upgrade_database
from convoledger.store.sql.codec import Codec
from convoledger.store.sql.schema import SEARCH_OBJECTS, TABLES, metadata
from convoledger.store.sql.search import SQLITE_PENDING
from convoledger.store.sql.sqlite_driver import connect
from convoledger.store.sql.statements import statements_for

TABLE_NAMES = {t.name for t in TABLES}


def _sqlite_objects(path: Path) -> dict[str, set[str]]:
    conn = sqlite3.connect(path)
    try:
        out: dict[str, set[str]] = {}
        for kind, name in conn.execute("SELECT type, name FROM sqlite_master"):
            out.setdefault(kind, set()).add(name)
        return out
    finally:
        conn.close()


def _revisions(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
    finally:
        conn.close()


async def test_upgrade_creates_every_table_on_an_empty_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    assert await upgrade_database(sqlite_url(path)) == head_revision()
    objects = _sqlite_objects(path)
    assert TABLE_NAMES | {"alembic_version", "messages_fts", "messages_fts_state"} <= objects["table"]
    # Revision 0002: no insert trigger (appends are indexed in batches behind a watermark).
    assert objects["trigger"] == {"messages_fts_ad", "messages_fts_au"}
    assert {
        "ix_conversations_owner_updated",
        "uq_conversations_owner_session_id",
        "uq_conversations_owner_session_key",
        "ix_conversations_status_activity",
        "ix_participants_owner_participant",
    } <= objects["index"]
    assert _revisions(path) == [head_revision()]


async def test_second_open_runs_no_migration_and_keeps_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, owner: str
) -> None:
    url = sqlite_url(tmp_path / "ledger.db")
    store = SqlStore(url)
    await store.open()
    conv = await store.create_conversation(owner, ConversationRecord(owner_id=owner))
    await store.append_messages(owner, conv.id, [MessageRecord(role="user", content="kept")])
    await store.close()

    def fail(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("Alembic ran on an up-to-date database")

    import alembic.command  # migrate imports it only when an upgrade is due

    monkeypatch.setattr(alembic.command, "upgrade", fail)
    again = SqlStore(url)
    await again.open()
    await again.open()  # idempotent on an open store too
    try:
        [m] = await again.list_messages(owner, conv.id, MessageQuery())
        assert m.content == "kept"
    finally:
        await again.close()
    assert _revisions(tmp_path / "ledger.db") == [head_revision()]


def _schema_diff(connection: Connection) -> list[Any]:
    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return name not in SEARCH_OBJECTS and name != "alembic_version"

    context = MigrationContext.configure(
        connection, opts={"include_object": include, "compare_type": True, "target_metadata": metadata}
    )
    return list(compare_metadata(context, metadata))


async def test_alembic_head_matches_schema_module_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "compare.db"
    await upgrade_database(sqlite_url(path))
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert _schema_diff(conn) == []
    finally:
        engine.dispose()


@pytest.mark.postgres
async def test_alembic_head_matches_schema_module_on_postgres(scratch_postgres_url: str) -> None:
    assert await upgrade_database(scratch_postgres_url) == head_revision()
    engine = create_async_engine(scratch_postgres_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_schema_diff) == []
            names = await conn.exec_driver_sql(
                "SELECT indexname FROM pg_indexes "
                "WHERE tablename = 'messages' AND indexdef LIKE '%USING gin%'"
            )
            assert [r[0] for r in names] == ["ix_messages_search_words"]
    finally:
        await engine.dispose()


def _alembic_sqlite(path: Path, action: str, revision: str) -> None:
    """Run ``alembic upgrade|downgrade revision`` on an SQLite file (as ``migrate`` does)."""
    conn = connect(str(path))
    engine = create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool)
    try:
        with engine.begin() as connection:
            getattr(command, action)(migrate.alembic_config(connection), revision)
    finally:
        engine.dispose(close=False)
        conn.close()


async def test_revision_0002_keeps_indexed_history_searchable_both_ways(tmp_path: Path, owner: str) -> None:
    path = tmp_path / "old.db"
    _alembic_sqlite(path, "upgrade", "0001")
    # History written at 0001 (the insert trigger indexed every row).
    st, codec = statements_for("sqlite"), Codec("sqlite")
    record = prepare_conversation(owner, ConversationRecord(owner_id=owner))
    raw = connect(str(path))
    try:
        # The row as revision 0001 has it (the fork lineage columns arrived with 0003).
        cols = {
            k: v
            for k, v in codec.conversation_values(record).items()
            if k not in ("parent_id", "forked_at_seq")
        }
        insert = f"INSERT INTO conversations ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        pk = raw.execute(insert + " RETURNING pk", tuple(cols.values())).fetchone()[0]
        for seq, word in enumerate(["old alpha", "old beta", "old gamma"], start=1):
            row = codec.message_row(MessageRecord(role="user", content=word), pk, seq)
            raw.execute(st.msg_insert.sql, row)
        raw.execute("UPDATE conversations SET message_count = 3, last_seq = 3 WHERE pk = ?", (pk,))
    finally:
        raw.close()

    await upgrade_database(sqlite_url(path))
    raw = sqlite3.connect(path)
    try:
        assert raw.execute(SQLITE_PENDING).fetchone() == (3, 3)  # all of it was indexed
    finally:
        raw.close()
    store = SqlStore(sqlite_url(path))
    await store.open()
    try:
        assert await store.count_messages(owner, record.id, MessageQuery(search="old")) == 3
        await store.append_messages(
            owner, record.id, [MessageRecord(role="user", content=w) for w in ("new delta", "new old")]
        )
    finally:
        await store.close()

    _alembic_sqlite(path, "downgrade", "0001")  # indexes the two pending rows
    raw = sqlite3.connect(path)
    try:
        triggers = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert triggers == {"messages_fts_ai", "messages_fts_ad", "messages_fts_au"}
        assert "messages_fts_state" not in _sqlite_objects(path)["table"]
        raw.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
        hits = raw.execute("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH '\"old\"'").fetchone()
        assert hits == (4,)
    finally:
        raw.close()


async def test_revision_0003_adds_provider_specific_data_and_old_rows_read_empty(
    tmp_path: Path, owner: str
) -> None:
    """Seed 004's ``provider_specific_data``: a call recorded at 0002 (no such column) reads back
    as ``{}`` after the upgrade; new calls keep theirs; the downgrade drops the column again."""
    path = tmp_path / "calls.db"
    _alembic_sqlite(path, "upgrade", "0002")
    record = ConversationRecord(owner_id=owner)
    raw = connect(str(path))
    try:
        # A 0002-era row, written with that revision's columns (today's statements name columns
        # that later revisions added).
        pk = raw.execute(
            "INSERT INTO conversations (id, owner_id, kind, metadata, status, participants, "
            "message_count, last_seq, created_at, updated_at, last_activity_at) VALUES (?, ?, "
            "'agent_session', '{}', 'active', '[]', 0, 0, ?, ?, ?) RETURNING pk",
            (record.id, owner, *["2025-01-02T03:04:05.000000+00:00"] * 3),
        ).fetchone()[0]
        raw.execute(
            "INSERT INTO provider_calls (conversation_pk, id, provider, identifiers, input_tokens, "
            "output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, total_tokens, "
            "usage_estimated, currency, created_at) "
            "VALUES (?, 'old-call', 'openai', '{}', 1, 2, 0, 0, 0, 3, 0, 'USD', ?)",
            (pk, "2025-01-02T03:04:05.000000+00:00"),
        )
    finally:
        raw.close()
    await upgrade_database(sqlite_url(path))
    store = SqlStore(sqlite_url(path))
    await store.open()
    try:
        new = ProviderCallRecord(
            conversation_id=record.id, provider="openai", provider_specific_data={"a": 1}
        )
        await store.record_provider_call(owner, record.id, new)
        calls = await store.list_provider_calls(owner, record.id)
    finally:
        await store.close()
    assert [(c.id, c.total_tokens, c.provider_specific_data) for c in calls] == [
        ("old-call", 3, {}),
        (new.id, 0, {"a": 1}),
    ]
    _alembic_sqlite(path, "downgrade", "0002")
    conn = sqlite3.connect(path)
    try:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(provider_calls)")}
    finally:
        conn.close()
    assert "provider_specific_data" not in columns and "created_at" in columns


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite:///:memory:", "mysql://user@host/db", "not a url", "memory://"]
)
async def test_upgrade_database_refuses_what_it_cannot_upgrade(url: str) -> None:
    with pytest.raises(ValueError):
        await upgrade_database(url)


def test_sql_store_refuses_other_urls() -> None:
    with pytest.raises(ValueError):
        SqlStore("mysql://user@host/db")


def test_two_processes_open_the_same_fresh_sqlite_file_at_once(tmp_path: Path) -> None:
    from sql_process_helpers import open_and_write

    path = tmp_path / "race.db"
    owner = f"owner-{uuid.uuid4()}"
    ctx = multiprocessing.get_context("spawn")
    workers = 3
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=open_and_write, args=(sqlite_url(path), owner, w, barrier, results))
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    outcomes = dict(results.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    assert outcomes == {w: None for w in range(workers)}, outcomes
    assert _revisions(path) == [head_revision()]

    async def count() -> tuple[int, int]:
        store = SqlStore(sqlite_url(path))
        await store.open()
        try:
            stats = await store.stats(owner)
            return stats.conversations, stats.messages
        finally:
            await store.close()

    assert asyncio.run(count()) == (workers, 3 * workers)


@pytest.mark.postgres
async def test_concurrent_first_opens_on_an_empty_postgres_database(
    scratch_postgres_url: str, owner: str
) -> None:
    stores = [SqlStore(scratch_postgres_url) for _ in range(3)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        convs = await asyncio.gather(
            *(s.create_conversation(owner, ConversationRecord(owner_id=owner)) for s in stores)
        )
        assert len({c.id for c in convs}) == 3
        assert (await stores[0].stats(owner)).conversations == 3
    finally:
        await asyncio.gather(*(s.close() for s in stores))
    dsn = migrate.asyncpg_dsn(scratch_postgres_url)
    conn = await asyncpg.connect(dsn)
    try:
        assert [r[0] for r in await conn.fetch("SELECT version_num FROM alembic_version")] == [
            head_revision()
        ]
    finally:
        await conn.close()


def _events_table_sql(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'ledger_events'"
        ).fetchone()
        return str(row[0])
    finally:
        conn.close()


def _counter(path: Path, owner: str) -> int | None:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute(
            "SELECT last_id FROM ledger_event_counters WHERE owner_id = ?", (owner,)
        ).fetchone()
        return None if row is None else int(row[0])
    finally:
        conn.close()


async def _append_and_list_event_ids(
    path: Path, owner: str, texts: list[str], *, create: bool = False
) -> list[int]:
    """Append ``texts`` to the owner's conversation ``c`` (created first with ``create``) and
    return every event id of the owner, in order."""
    store = SqlStore(sqlite_url(path))
    await store.open()
    try:
        if create:
            await store.create_conversation(owner, ConversationRecord(id="c", owner_id=owner))
        await store.append_messages(owner, "c", [MessageRecord(role="user", content=t) for t in texts])
        return [e.id for e in await store.list_events(owner, EventQuery(limit=1000))]
    finally:
        await store.close()


async def test_revision_0008_events_without_rowid_keep_their_numbering_both_ways(
    tmp_path: Path, owner: str
) -> None:
    path = tmp_path / "ledger.db"
    ids = await _append_and_list_event_ids(path, owner, ["a", "b", "c"], create=True)
    assert ids == list(range(1, len(ids) + 1)) and len(ids) >= 4  # created + three appended
    assert "WITHOUT ROWID" in _events_table_sql(path)
    assert _counter(path, owner) is None  # the numbering reads, it does not move the counter

    _alembic_sqlite(path, "downgrade", "0007_notify_in_statements")
    assert "WITHOUT ROWID" not in _events_table_sql(path)
    assert _counter(path, owner) == ids[-1]  # revision 0007's numbering goes on from here
    objects = _sqlite_objects(path)
    assert "ix_ledger_events_owner_conversation_id" in objects["index"]

    _alembic_sqlite(path, "upgrade", "head")
    assert "WITHOUT ROWID" in _events_table_sql(path)
    again = await _append_and_list_event_ids(path, owner, ["d"])
    assert again == [*ids, ids[-1] + 1]

    # the counter is the floor: events deleted from the top (by hand here) are never numbered again
    conn = sqlite3.connect(path)
    try:
        conn.execute("UPDATE ledger_event_counters SET last_id = 100 WHERE owner_id = ?", (owner,))
        conn.execute("DELETE FROM ledger_events WHERE owner_id = ? AND id > 2", (owner,))
        conn.commit()
    finally:
        conn.close()
    assert await _append_and_list_event_ids(path, owner, ["e"]) == [1, 2, 101]
