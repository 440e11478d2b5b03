"""Conversation lookups by id, session_id and session_key each use an index (issue 15, item 4):
the query plans (SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN`` with sequential scans
priced out) never scan the owner's conversations, so creating or importing a conversation costs
the same in an account of any size."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path

import asyncpg
import pytest
from sql_test_helpers import sqlite_url

from convoledger.models.records import ConversationRecord
from convoledger.store.sql import SqlStore, migrate
from convoledger.store.sql.statements import Q, statements_for

#: The statements that find a conversation (or what a new one would collide with) by its keys.
LOOKUPS = ("conv_taken", "conv_get", "conv_by_session_id", "conv_by_session_key", "conv_lock", "conv_pk")


def _sqlite_plan(conn: sqlite3.Connection, q: Q) -> list[str]:
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + q.sql, [None] * len(q.names))]


@pytest.mark.parametrize("name", [*LOOKUPS, "conv_taken_many"])
async def test_sqlite_lookups_search_an_index_and_never_scan_conversations(tmp_path: Path, name: str) -> None:
    store = SqlStore(sqlite_url(tmp_path / "ledger.db"))
    await store.open()
    await store.close()
    conn = sqlite3.connect(tmp_path / "ledger.db")
    try:
        plan = _sqlite_plan(conn, getattr(statements_for("sqlite"), name))
    finally:
        conn.close()
    on_conversations = [step for step in plan if " conversations" in step]
    assert on_conversations, plan
    assert all(step.startswith("SEARCH conversations USING") for step in on_conversations), plan
    if name.startswith("conv_taken"):  # one index per key
        used = " ".join(on_conversations)
        for index in (
            "sqlite_autoindex_conversations_1",
            "uq_conversations_owner_session_id",
            "uq_conversations_owner_session_key",
        ):
            assert index in used, plan


async def test_sqlite_conflict_check_still_names_each_taken_key(tmp_path: Path) -> None:
    """The UNION ALL form finds a clash on any one of the three keys, as the OR did."""
    from convoledger.errors import Conflict

    store = SqlStore(sqlite_url(tmp_path / "ledger.db"))
    await store.open()
    try:
        await store.ensure_account("o")
        first = await store.create_conversation(
            "o", ConversationRecord(owner_id="o", session_id="sid-1", session_key="key-1")
        )
        for clash, word in (
            ({"id": first.id}, "already exists"),
            ({"session_id": "sid-1"}, "session_id"),
            ({"session_key": "key-1"}, "session_key"),
        ):
            with pytest.raises(Conflict, match=word):
                await store.create_conversation("o", ConversationRecord(owner_id="o", **clash))
        # another owner may use the same keys
        await store.ensure_account("p")
        await store.create_conversation("p", ConversationRecord(owner_id="p", session_id="sid-1"))
    finally:
        await store.close()


@pytest.mark.postgres
def test_postgres_lookups_use_indexes(postgres_url: str) -> None:
    async def plans() -> dict[str, str]:
        store = SqlStore(postgres_url)
        await store.open()  # the schema at head
        await store.close()
        conn = await asyncpg.connect(migrate.asyncpg_dsn(postgres_url))
        try:
            out: dict[str, str] = {}
            async with conn.transaction():
                await conn.execute("SET LOCAL enable_seqscan = off")
                st = statements_for("postgresql")
                for name in LOOKUPS:
                    q = getattr(st, name)
                    args = [f"x-{uuid.uuid4()}"] * len(q.names)
                    rows = await conn.fetch("EXPLAIN " + q.sql, *args)
                    out[name] = "\n".join(r[0] for r in rows)
            return out
        finally:
            await conn.close()

    for name, plan in asyncio.run(plans()).items():
        assert "Seq Scan on conversations" not in plan, (name, plan)
        assert "conversations" in plan, (name, plan)
