"""PostgreSQL: a store gives a new ``conversations`` table planner statistics once it has written
``STATISTICS_AFTER_CONVERSATIONS`` conversations (``SqlStore._conversations_written``), so that
the lookup of one conversation plans through ``uq_conversations_owner_id`` instead of a listing
index that reads all of the owner's conversations. Autovacuum is switched off for the table, so
no statistics arrive from elsewhere during the test."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.store.sql import SqlStore, ops
from convoledger.store.sql.prepare import prepare_batch
from convoledger.store.sql.store import STATISTICS_AFTER_CONVERSATIONS

_LAST_ANALYZE = "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'conversations'"
_ANALYSED = (
    "SELECT coalesce(last_analyze, last_autoanalyze) IS NOT NULL FROM pg_stat_user_tables "
    "WHERE relname = 'conversations'"
)


#: Conversations in the table when the plan is checked: enough that without statistics the
#: planner took a listing index (measured from 300 up), and that with them it prefers an index
#: to reading the whole table.
_GROWN = 400


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _indexes(plan: Any) -> list[str]:
    """Every ``Index Name`` of an ``EXPLAIN (FORMAT JSON)`` plan tree."""
    if isinstance(plan, dict):
        own = [plan["Index Name"]] if "Index Name" in plan else []
        return own + [name for value in plan.values() for name in _indexes(value)]
    if isinstance(plan, list):
        return [name for value in plan for name in _indexes(value)]
    return []


@pytest.fixture
async def fresh(scratch_postgres_url: str) -> AsyncIterator[tuple[SqlStore, asyncpg.Connection, str]]:
    """An open store on a new database, a raw connection to it with autovacuum off for
    ``conversations`` (no statistics arrive from elsewhere), and a fresh owner id."""
    store = SqlStore(scratch_postgres_url)
    await store.open()
    conn = await asyncpg.connect(_dsn(scratch_postgres_url))
    try:
        await conn.execute("ALTER TABLE conversations SET (autovacuum_enabled = false)")
        yield store, conn, f"owner-{uuid.uuid4().hex[:8]}"
    finally:
        await conn.close()
        await store.close()


async def test_conversations_get_statistics_after_the_first_writes(
    fresh: tuple[SqlStore, asyncpg.Connection, str],
) -> None:
    store, conn, owner = fresh
    ids = []
    for _ in range(STATISTICS_AFTER_CONVERSATIONS - 1):
        ids.append((await store.create_conversation(owner, ConversationRecord(owner_id=owner))).id)
    assert await conn.fetchval(_ANALYSED) is False  # not yet: one write short
    # the last one arrives through an import, which counts too
    await store.import_conversation(owner, ConversationRecord(owner_id=owner), [])
    assert await conn.fetchval(_ANALYSED) is True
    # grow the table past what a sequential scan would be chosen for (no ANALYZE from here on)
    for _ in range(_GROWN - STATISTICS_AFTER_CONVERSATIONS):
        ids.append((await store.create_conversation(owner, ConversationRecord(owner_id=owner))).id)

    target = ids[len(ids) // 2]
    batch = prepare_batch(target, [MessageRecord(role="user", content="hi", token_count=1)])
    plan = ops.append_plan(store._st, store._codec, owner, target, batch, datetime.now(UTC))
    raw = await conn.fetchval("EXPLAIN (FORMAT JSON) " + plan.q.sql, *plan.q.args(plan.params))
    used = _indexes(json.loads(raw) if isinstance(raw, str) else raw)
    assert "uq_conversations_owner_id" in used, used
    listing = {"ix_conversations_owner_updated", "ix_conversations_owner_status_updated"}
    assert not (listing | {"ix_conversations_status_activity"}) & set(used), used


async def test_a_table_with_statistics_is_not_analysed_again(
    fresh: tuple[SqlStore, asyncpg.Connection, str],
) -> None:
    store, conn, owner = fresh
    await conn.execute("ANALYZE conversations")
    before = await conn.fetchval(_LAST_ANALYZE)
    for _ in range(STATISTICS_AFTER_CONVERSATIONS + 1):
        await store.create_conversation(owner, ConversationRecord(owner_id=owner))
    after = await conn.fetchval(_LAST_ANALYZE)
    assert after == before
