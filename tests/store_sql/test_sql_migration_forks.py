"""Revision 0004_forks: an existing SQLite database gets the lineage columns with its rows
intact (none of them a branch), forks work after the upgrade, and the downgrade drops the
columns without touching the messages (no table rebuild that would cascade)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sql_test_helpers import sqlite_url
from test_sql_migrations import _alembic_sqlite

from convoledger.ledger import Ledger
from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.store.sql import SqlStore, upgrade_database


def _columns(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[1] for r in conn.execute("PRAGMA table_info(conversations)")}
    finally:
        conn.close()


async def test_upgrade_to_forks_and_back(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _alembic_sqlite(path, "upgrade", "0002")
    assert "parent_id" not in _columns(path)
    conn = sqlite3.connect(path)
    try:
        conn.execute(
            "INSERT INTO conversations (id, owner_id, kind, metadata, status, participants, message_count, "
            "last_seq, created_at, updated_at, last_activity_at) VALUES ('c1', 'o', 'agent_session', '{}', "
            "'active', '[]', 0, 0, '2024-01-01T00:00:00.000000+00:00', '2024-01-01T00:00:00.000000+00:00', "
            "'2024-01-01T00:00:00.000000+00:00')"
        )
        conn.commit()
    finally:
        conn.close()

    await upgrade_database(sqlite_url(path))
    assert {"parent_id", "forked_at_seq"} <= _columns(path)
    store = SqlStore(sqlite_url(path))
    await store.open()
    try:
        ledger = Ledger(store, owner="o")
        old = await ledger.resolve("c1")
        assert (old.parent_id, old.forked_at_seq) == (None, None)
        await ledger.append_batch(old, [MessageRecord(role="user", content=w) for w in ("one", "two")])
        branch = await ledger.fork(old, 1)
        assert [m.content for m in await ledger.messages(branch)] == ["one"]
        assert isinstance(await ledger.resolve(branch.id), ConversationRecord)
    finally:
        await store.close()

    _alembic_sqlite(path, "downgrade", "0002")
    assert "parent_id" not in _columns(path)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT count(*) FROM messages").fetchone() == (2,)
    finally:
        conn.close()
