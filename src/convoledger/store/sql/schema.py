"""The SQL schema of the ledger (SQLAlchemy Core ``Table`` objects), shared by SQLite and PostgreSQL.

This module is the live description of the tables; the migrations in ``migrations/versions``
create exactly this (``tests/store_sql`` compares the Alembic head with it). Column types differ
per dialect through ``with_variant``:

- timestamps: PostgreSQL ``timestamptz``; SQLite text ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` (always
  UTC, always with microseconds, so text order is time order and ``datetime.fromisoformat``
  reads it back aware; see ``codec.py``);
- JSON values: PostgreSQL ``jsonb``; SQLite text (serialised with orjson);
- booleans: PostgreSQL ``boolean``; SQLite 0/1.

Search: ``messages.search_words`` holds each message's word set, computed by the store with the
shared tokenizer (see ``search.py``). Its index exists on one dialect each and is not described
here: SQLite has the FTS5 table ``messages_fts`` (external content over ``messages``; new rows
indexed in batches behind the watermark table ``messages_fts_state``, edits and deletes by two
triggers); PostgreSQL a GIN index on the ``text[]`` column. ``SEARCH_OBJECTS`` names them so that
schema comparisons can leave them aside.

Keys. A conversation's identity is ``(owner_id, id)`` (``uq_conversations_owner_id``): ids are
unique per owner, as in every backend, so one owner can never learn by a ``Conflict`` that another
owner uses an id (invariant 1). Rows carry a surrogate integer key ``conversations.pk`` that every
child table references (``conversation_pk``, ``ON DELETE CASCADE``; SQLite connections turn
``PRAGMA foreign_keys`` on): child indexes hold an 8-byte integer instead of a 36-character UUID,
and deleting a conversation deletes its messages, participants, events, memory and provider calls
in the same statement. A conversation deleted and created again with the same id gets a new
``pk``, so nothing of the old one can reappear.

Index choices (every read of ``Store`` is owner-scoped and paged; no read scans a table):

- ``conversations``: ``ix_conversations_owner_updated (owner_id, updated_at, id)`` serves the
  default listing (newest first, keyset ``before=(updated_at, id)``) by a backward index scan;
  the other listing filters (kind, created range, name text, participant) are checked on the rows
  that scan reaches. ``ix_conversations_owner_status_updated (owner_id, status, updated_at, id)``
  serves the common "active conversations" listing and ``stats`` without touching other
  statuses. ``uq_conversations_owner_session_id`` / ``uq_conversations_owner_session_key`` are
  partial unique indexes (``WHERE … IS NOT NULL``): the external id and the derived session key
  are unique per owner when present, and lookups by them are single probes.
  ``ix_conversations_owner_parent (owner_id, parent_id)`` (partial: branches only, migration
  0003) finds a conversation's branches (``list_branches`` and the check that refuses removing
  history a branch shares); ``parent_id``/``forked_at_seq`` are the fork lineage
  (``store/lineage.py``).
  ``ix_conversations_status_activity (status, last_activity_at)`` serves the lifecycle sweeper
  (``conversations_idle_since``: given statuses, oldest activity first, across owners). Appends
  move ``updated_at`` and ``last_activity_at`` only in steps of 1 s
  (``querying.activity_after_append``), so a burst of appends to one conversation rewrites these
  three indexes' entries at most once a second; otherwise the append's row update touches no
  index (on PostgreSQL a HOT update).
- ``participants``: one row per (conversation, participant) with type and role. The conversation
  row keeps the ordered participant list with metadata as JSON, so reading a conversation is one
  row; this table makes "conversations with participant X" an index probe: the primary key
  ``(conversation_pk, participant_id)`` answers the ``EXISTS`` from the listing scan, and
  ``ix_participants_owner_participant (owner_id, participant_id)`` answers it from the other side
  when the participant is rare. Both are written in the same transaction as the conversation.
- ``messages``: ``row_id`` is an integer primary key (on SQLite the rowid itself, which the FTS5
  external-content table references; a rowid that VACUUM could renumber would desynchronise the
  index). ``uq_messages_conversation_seq (conversation_pk, seq)`` is the order of the ledger:
  recent N is a backward scan of N entries, keyset pages (``after_seq``/``before_seq``) are range
  scans, and uniqueness makes a duplicate seq impossible even if a bug bypassed the lock.
  ``uq_messages_conversation_id (conversation_pk, id)`` makes client-supplied ids idempotent per
  conversation (a retry finds the original by one probe) and serves ``get_message``.
- ``lifecycle_events``: ``ix_lifecycle_events_conversation (conversation_pk, row_id)`` lists one
  conversation's events in recording order.
- ``memory_entries``: primary key ``(conversation_pk, key)``; reads are "all keys of one
  conversation, by key", the primary key order.
- ``provider_calls``: ``uq_provider_calls_conversation_id (conversation_pk, id)`` refuses a call
  recorded twice and lists one conversation's calls; they are returned in recording order
  (``row_id``), as the other backends do.
- ``accounts`` / ``api_keys``: primary keys ``name`` / ``key_hash`` (authentication is one probe);
  ``ix_api_keys_account`` lists an account's keys.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

#: Constraint naming convention (stable names for migrations).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def timestamp() -> sa.types.TypeEngine[Any]:
    """Aware UTC timestamp: ``timestamptz`` on PostgreSQL, fixed-width ISO 8601 text on SQLite."""
    return sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def json_value() -> sa.types.TypeEngine[Any]:
    """A JSON value: ``jsonb`` on PostgreSQL, text on SQLite."""
    return sa.Text().with_variant(postgresql.JSONB(), "postgresql")


def big_id() -> sa.types.TypeEngine[int]:
    """An autoincrementing 64-bit key (``bigserial``); on SQLite ``INTEGER`` so it is the rowid."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def big_ref() -> sa.types.TypeEngine[int]:
    """A reference to a ``big_id`` key."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def ordered_text() -> sa.types.TypeEngine[str]:
    """Text whose sort order is code-point order on every database, as Python sorts ``str``
    (SQLite's default BINARY collation; ``COLLATE "C"`` on PostgreSQL, whatever the database
    locale). Used for the columns the store orders by: conversation ids (listing tie-break,
    keyset paging) and memory keys."""
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def search_words() -> sa.types.TypeEngine[Any]:
    """The indexed word set of a message (see ``search.py``): space-joined text on SQLite,
    ``text[]`` on PostgreSQL."""
    return sa.Text().with_variant(postgresql.ARRAY(sa.Text()), "postgresql")


def _conversation_fk() -> sa.ForeignKey:
    return sa.ForeignKey("conversations.pk", ondelete="CASCADE")


accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("name", sa.Text(), primary_key=True),
    sa.Column("created_at", timestamp(), nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_hash", sa.Text(), primary_key=True),
    sa.Column("account", sa.Text(), sa.ForeignKey("accounts.name", ondelete="CASCADE"), nullable=False),
    sa.Column("label", sa.Text(), nullable=True),
    sa.Column("created_at", timestamp(), nullable=False),
    sa.Index("ix_api_keys_account", "account"),
)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("pk", big_id(), primary_key=True, autoincrement=True),
    sa.Column("id", ordered_text(), nullable=False),
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
    sa.Column("current_goal", json_value(), nullable=True),
    sa.Column("metadata", json_value(), nullable=False),
    sa.Column("server_state", json_value(), nullable=True),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("participants", json_value(), nullable=False),
    sa.Column("message_count", sa.BigInteger(), nullable=False),
    sa.Column("last_seq", sa.BigInteger(), nullable=False),
    sa.Column("created_at", timestamp(), nullable=False),
    sa.Column("updated_at", timestamp(), nullable=False),
    sa.Column("last_activity_at", timestamp(), nullable=False),
    sa.Column("parent_id", ordered_text(), nullable=True),
    sa.Column("forked_at_seq", sa.BigInteger(), nullable=True),
    sa.UniqueConstraint("owner_id", "id", name="uq_conversations_owner_id"),
)
sa.Index(
    "ix_conversations_owner_updated", conversations.c.owner_id, conversations.c.updated_at, conversations.c.id
)
sa.Index(
    "ix_conversations_owner_status_updated",
    conversations.c.owner_id,
    conversations.c.status,
    conversations.c.updated_at,
    conversations.c.id,
)
sa.Index(
    "uq_conversations_owner_session_id",
    conversations.c.owner_id,
    conversations.c.session_id,
    unique=True,
    sqlite_where=conversations.c.session_id.is_not(None),
    postgresql_where=conversations.c.session_id.is_not(None),
)
sa.Index(
    "uq_conversations_owner_session_key",
    conversations.c.owner_id,
    conversations.c.session_key,
    unique=True,
    sqlite_where=conversations.c.session_key.is_not(None),
    postgresql_where=conversations.c.session_key.is_not(None),
)
sa.Index("ix_conversations_status_activity", conversations.c.status, conversations.c.last_activity_at)
sa.Index(
    "ix_conversations_owner_parent",
    conversations.c.owner_id,
    conversations.c.parent_id,
    sqlite_where=conversations.c.parent_id.is_not(None),
    postgresql_where=conversations.c.parent_id.is_not(None),
)

participants = sa.Table(
    "participants",
    metadata,
    sa.Column("conversation_pk", big_ref(), _conversation_fk(), primary_key=True),
    sa.Column("participant_id", sa.Text(), primary_key=True),
    sa.Column("owner_id", sa.Text(), nullable=False),
    sa.Column("participant_type", sa.Text(), nullable=False),
    sa.Column("participant_role", sa.Text(), nullable=True),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Index("ix_participants_owner_participant", "owner_id", "participant_id"),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("row_id", big_id(), primary_key=True, autoincrement=True),
    sa.Column("conversation_pk", big_ref(), _conversation_fk(), nullable=False),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    sa.Column("id", sa.Text(), nullable=False),
    sa.Column("role", sa.Text(), nullable=False),
    sa.Column("content", sa.Text(), nullable=False),
    sa.Column("sender", sa.Text(), nullable=True),
    sa.Column("recipient", sa.Text(), nullable=True),
    sa.Column("message_type", sa.Text(), nullable=True),
    sa.Column("tool_call_id", sa.Text(), nullable=True),
    sa.Column("tool_name", sa.Text(), nullable=True),
    sa.Column("tool_calls", json_value(), nullable=True),
    sa.Column("extra_data", json_value(), nullable=True),
    sa.Column("metadata", json_value(), nullable=False),
    sa.Column("token_count", sa.Integer(), nullable=True),
    sa.Column("pinned", sa.Boolean(), nullable=False),
    sa.Column("redacted", sa.Boolean(), nullable=False),
    sa.Column("created_at", timestamp(), nullable=False),
    sa.Column("updated_at", timestamp(), nullable=True),
    sa.Column("search_words", search_words(), nullable=True),
    sa.UniqueConstraint("conversation_pk", "seq", name="uq_messages_conversation_seq"),
    sa.UniqueConstraint("conversation_pk", "id", name="uq_messages_conversation_id"),
)

lifecycle_events = sa.Table(
    "lifecycle_events",
    metadata,
    sa.Column("row_id", big_id(), primary_key=True, autoincrement=True),
    sa.Column("conversation_pk", big_ref(), _conversation_fk(), nullable=False),
    sa.Column("from_status", sa.Text(), nullable=False),
    sa.Column("to_status", sa.Text(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("actor", sa.Text(), nullable=True),
    sa.Column("at", timestamp(), nullable=False),
    sa.Index("ix_lifecycle_events_conversation", "conversation_pk", "row_id"),
)

memory_entries = sa.Table(
    "memory_entries",
    metadata,
    sa.Column("conversation_pk", big_ref(), _conversation_fk(), primary_key=True),
    sa.Column("key", ordered_text(), primary_key=True),
    sa.Column("value", json_value(), nullable=True),
    sa.Column("updated_at", timestamp(), nullable=False),
)

provider_calls = sa.Table(
    "provider_calls",
    metadata,
    sa.Column("row_id", big_id(), primary_key=True, autoincrement=True),
    sa.Column("conversation_pk", big_ref(), _conversation_fk(), nullable=False),
    sa.Column("id", sa.Text(), nullable=False),
    sa.Column("message_id", sa.Text(), nullable=True),
    sa.Column("provider", sa.Text(), nullable=False),
    sa.Column("api", sa.Text(), nullable=True),
    sa.Column("model", sa.Text(), nullable=True),
    sa.Column("identifiers", json_value(), nullable=False),
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
    sa.Column("error", json_value(), nullable=True),
    sa.Column("raw_response", json_value(), nullable=True),
    sa.Column("request", json_value(), nullable=True),
    sa.Column("created_at", timestamp(), nullable=False),
    # revision 0003: NULL on rows recorded before it (read back as {})
    sa.Column("provider_specific_data", json_value(), nullable=True),
    sa.UniqueConstraint("conversation_pk", "id", name="uq_provider_calls_conversation_id"),
)

ledger_events = sa.Table(
    # The outbox of live events (issue 18, ``store/sql/outbox_sql.py``): one row per event,
    # numbered per owner in commit order (``ledger_event_counters``). Not tied to a conversation
    # row by a foreign key: a conversation's events (its deletion included) outlive it.
    "ledger_events",
    metadata,
    sa.Column("owner_id", sa.Text(), primary_key=True),
    sa.Column("id", sa.BigInteger(), primary_key=True),
    sa.Column("kind", sa.Text(), nullable=False),
    sa.Column("conversation_id", sa.Text(), nullable=True),
    sa.Column("payload", json_value(), nullable=False),
    sa.Column("created_at", timestamp(), nullable=False),
    # a session's stream: keyset by id within one conversation of the owner
    sa.Index("ix_ledger_events_owner_conversation_id", "owner_id", "conversation_id", "id"),
    # SQLite: clustered on the primary key, one B-tree written per event (revision 0008)
    sqlite_with_rowid=False,
)

ledger_event_counters = sa.Table(
    # The owner's last event id. PostgreSQL: updated in the transaction that writes the events,
    # so its row lock orders the owner's event-writing commits (see outbox_sql.py). SQLite (one
    # writer at a time): only read, as the floor under the owner's largest event id (revision 0008).
    "ledger_event_counters",
    metadata,
    sa.Column("owner_id", sa.Text(), primary_key=True),
    sa.Column("last_id", sa.BigInteger(), nullable=False),
)

maintenance_passes = sa.Table(
    # The pass log of the maintenance scheduler (issue 13, ``maintenance/journal.py``, migration
    # 0006): one row per pass (who ran it, when, how it ended, its counts as JSON text).
    "maintenance_passes",
    metadata,
    sa.Column("id", big_id(), primary_key=True, autoincrement=True),
    sa.Column("holder", sa.Text(), nullable=False),
    sa.Column("started_at", timestamp(), nullable=False),
    sa.Column("finished_at", timestamp(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("counts", sa.Text(), nullable=False),
    sa.Column("error", sa.Text(), nullable=True),
)

maintenance_deletions = sa.Table(
    # Sessions removed (or archived) by a cleanup policy, with the backup written just before;
    # listed per account, newest first (``ix_maintenance_deletions_owner_id``).
    "maintenance_deletions",
    metadata,
    sa.Column("id", big_id(), primary_key=True, autoincrement=True),
    sa.Column("owner_id", sa.Text(), nullable=False),
    sa.Column("conversation_id", sa.Text(), nullable=False),
    sa.Column("session_id", sa.Text(), nullable=True),
    sa.Column("policy", sa.Text(), nullable=False),
    sa.Column("action", sa.Text(), nullable=False),
    sa.Column("actor", sa.Text(), nullable=False),
    sa.Column("backup_id", sa.Text(), nullable=True),
    sa.Column("at", timestamp(), nullable=False),
    sa.Index("ix_maintenance_deletions_owner_id", "owner_id", "id"),
)

maintenance_alerts = sa.Table(
    # Alerts raised by maintenance passes (seed 002 §9), listed per account newest first; each is
    # also an ``alert.raised`` event of the outbox (so it streams).
    "maintenance_alerts",
    metadata,
    sa.Column("id", big_id(), primary_key=True, autoincrement=True),
    sa.Column("owner_id", sa.Text(), nullable=False),
    sa.Column("conversation_id", sa.Text(), nullable=False),
    sa.Column("kind", sa.Text(), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("value", sa.Float(), nullable=False),
    sa.Column("threshold", sa.Float(), nullable=False),
    sa.Column("at", timestamp(), nullable=False),
    sa.Index("ix_maintenance_alerts_owner_id", "owner_id", "id"),
    # "already alerted for this session since its last activity?" (one probe per candidate)
    sa.Index("ix_maintenance_alerts_owner_id_conversation_id", "owner_id", "conversation_id", "kind", "at"),
)

maintenance_leases = sa.Table(
    # The SQLite lease that lets one process at a time run a maintenance pass (PostgreSQL uses
    # ``pg_try_advisory_lock`` instead): a row per lease name, its holder and expiry.
    "maintenance_leases",
    metadata,
    sa.Column("name", sa.Text(), primary_key=True),
    sa.Column("holder", sa.Text(), nullable=False),
    sa.Column("expires_at", timestamp(), nullable=False),
)

#: Dialect-specific search objects created by the migrations but not described by ``metadata``
#: (see ``search.py``): the SQLite FTS5 table, its shadow tables, triggers and watermark table
#: (``messages_fts_ai`` existed up to revision 0001); the PostgreSQL GIN index on
#: ``messages.search_words``.
SEARCH_OBJECTS = frozenset(
    {
        "messages_fts",
        "messages_fts_data",
        "messages_fts_idx",
        "messages_fts_docsize",
        "messages_fts_config",
        "messages_fts_ai",
        "messages_fts_ad",
        "messages_fts_au",
        "messages_fts_state",
        "ix_messages_search_words",
    }
)

#: Every table of the schema, in creation order.
TABLES = (
    accounts,
    api_keys,
    conversations,
    participants,
    messages,
    lifecycle_events,
    memory_entries,
    provider_calls,
    ledger_events,
    ledger_event_counters,
    maintenance_passes,
    maintenance_deletions,
    maintenance_alerts,
    maintenance_leases,
)
