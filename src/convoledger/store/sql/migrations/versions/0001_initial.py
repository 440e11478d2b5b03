"""Initial schema: accounts, api_keys, conversations, participants, messages, lifecycle_events,
memory_entries, provider_calls, and the search index (SQLite FTS5 + triggers; PostgreSQL GIN).

A frozen snapshot: it does not import the live ``schema`` module, so later changes to it never
alter what this revision creates. Index choices are explained in ``schema.py``.

Revision ID: 0001
Revises:
Create Date: 2025-11-21
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _ts() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.Text().with_variant(postgresql.JSONB(), "postgresql")


def _big_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ordered_text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def _conv_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["conversation_pk"],
        ["conversations.pk"],
        name=f"fk_{table}_conversation_pk_conversations",
        ondelete="CASCADE",
    )


# SQLite full-text search: an FTS5 table over messages.search_words (the word set the store
# computes with the shared tokenizer; see search.py), external content, kept in sync by triggers.
# detail=none: the index keeps which rows hold a word, not positions; every query word is one
# token, so no query needs more (and the index is smaller and faster to maintain). columnsize=0:
# no per-row token counts (they only serve BM25 ranking, which the store does not offer).
_SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "search_words, content='messages', content_rowid='row_id', tokenize='ascii', detail=none, columnsize=0)",
    "CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, search_words) VALUES (new.row_id, coalesce(new.search_words, '')); "
    "END",
    "CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, search_words) "
    "VALUES ('delete', old.row_id, coalesce(old.search_words, '')); "
    "END",
    "CREATE TRIGGER messages_fts_au AFTER UPDATE OF search_words ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, search_words) "
    "VALUES ('delete', old.row_id, coalesce(old.search_words, '')); "
    "INSERT INTO messages_fts(rowid, search_words) VALUES (new.row_id, coalesce(new.search_words, '')); "
    "END",
]


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_accounts"),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column("account", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account"], ["accounts.name"], name="fk_api_keys_account_accounts", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key_hash", name="pk_api_keys"),
    )
    op.create_index("ix_api_keys_account", "api_keys", ["account"])

    op.create_table(
        "conversations",
        sa.Column("pk", _big_id(), autoincrement=True, nullable=False),
        sa.Column("id", _ordered_text(), nullable=False),
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column("session_id", sa.Text(), nullable=True),
        sa.Column("session_key", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("session_type", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("agent_name", sa.Text(), nullable=True),
        sa.Column("agent_instructions", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Text(), nullable=True),
        sa.Column("device_id", sa.Text(), nullable=True),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("current_goal", _json(), nullable=True),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("server_state", _json(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("participants", _json(), nullable=False),
        sa.Column("message_count", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("last_activity_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_conversations"),
        sa.UniqueConstraint("owner_id", "id", name="uq_conversations_owner_id"),
    )
    op.create_index("ix_conversations_owner_updated", "conversations", ["owner_id", "updated_at", "id"])
    op.create_index(
        "ix_conversations_owner_status_updated", "conversations", ["owner_id", "status", "updated_at", "id"]
    )
    for column in ("session_id", "session_key"):
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            f"uq_conversations_owner_{column}",
            "conversations",
            ["owner_id", column],
            unique=True,
            sqlite_where=where,
            postgresql_where=where,
        )
    op.create_index("ix_conversations_status_activity", "conversations", ["status", "last_activity_at"])

    op.create_table(
        "participants",
        sa.Column("conversation_pk", _big_id(), nullable=False),
        sa.Column("participant_id", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column("participant_type", sa.Text(), nullable=False),
        sa.Column("participant_role", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        _conv_fk("participants"),
        sa.PrimaryKeyConstraint("conversation_pk", "participant_id", name="pk_participants"),
    )
    op.create_index("ix_participants_owner_participant", "participants", ["owner_id", "participant_id"])

    op.create_table(
        "messages",
        sa.Column("row_id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("conversation_pk", _big_id(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("sender", sa.Text(), nullable=True),
        sa.Column("recipient", sa.Text(), nullable=True),
        sa.Column("message_type", sa.Text(), nullable=True),
        sa.Column("tool_call_id", sa.Text(), nullable=True),
        sa.Column("tool_name", sa.Text(), nullable=True),
        sa.Column("tool_calls", _json(), nullable=True),
        sa.Column("extra_data", _json(), nullable=True),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("token_count", sa.Integer(), nullable=True),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("redacted", sa.Boolean(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=True),
        sa.Column(
            "search_words", sa.Text().with_variant(postgresql.ARRAY(sa.Text()), "postgresql"), nullable=True
        ),
        _conv_fk("messages"),
        sa.PrimaryKeyConstraint("row_id", name="pk_messages"),
        sa.UniqueConstraint("conversation_pk", "seq", name="uq_messages_conversation_seq"),
        sa.UniqueConstraint("conversation_pk", "id", name="uq_messages_conversation_id"),
    )

    op.create_table(
        "lifecycle_events",
        sa.Column("row_id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("conversation_pk", _big_id(), nullable=False),
        sa.Column("from_status", sa.Text(), nullable=False),
        sa.Column("to_status", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("at", _ts(), nullable=False),
        _conv_fk("lifecycle_events"),
        sa.PrimaryKeyConstraint("row_id", name="pk_lifecycle_events"),
    )
    op.create_index("ix_lifecycle_events_conversation", "lifecycle_events", ["conversation_pk", "row_id"])

    op.create_table(
        "memory_entries",
        sa.Column("conversation_pk", _big_id(), nullable=False),
        sa.Column("key", _ordered_text(), nullable=False),
        sa.Column("value", _json(), nullable=True),
        sa.Column("updated_at", _ts(), nullable=False),
        _conv_fk("memory_entries"),
        sa.PrimaryKeyConstraint("conversation_pk", "key", name="pk_memory_entries"),
    )

    op.create_table(
        "provider_calls",
        sa.Column("row_id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("conversation_pk", _big_id(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("api", sa.Text(), nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("identifiers", _json(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=False),
        sa.Column("reasoning_tokens", sa.BigInteger(), nullable=False),
        sa.Column("total_tokens", sa.BigInteger(), nullable=False),
        sa.Column("usage_estimated", sa.Boolean(), nullable=False),
        sa.Column("cost", sa.Double(), nullable=True),
        sa.Column("provider_cost", sa.Double(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("price_source", sa.Text(), nullable=True),
        sa.Column("cost_note", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Double(), nullable=True),
        sa.Column("stop_reason", sa.Text(), nullable=True),
        sa.Column("error", _json(), nullable=True),
        sa.Column("raw_response", _json(), nullable=True),
        sa.Column("request", _json(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        _conv_fk("provider_calls"),
        sa.PrimaryKeyConstraint("row_id", name="pk_provider_calls"),
        sa.UniqueConstraint("conversation_pk", "id", name="uq_provider_calls_conversation_id"),
    )

    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_SEARCH:
            op.execute(statement)
    else:
        op.create_index("ix_messages_search_words", "messages", ["search_words"], postgresql_using="gin")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("messages_fts_au", "messages_fts_ad", "messages_fts_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS messages_fts")
    for table in (
        "provider_calls",
        "memory_entries",
        "lifecycle_events",
        "messages",
        "participants",
        "conversations",
        "api_keys",
        "accounts",
    ):
        op.drop_table(table)
