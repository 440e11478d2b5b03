"""SQLite: index new messages for search in batches behind a watermark instead of one trigger run
per INSERT (see ``search.py``, "Deferred indexing on SQLite").

Revision 0001 kept ``messages_fts`` in sync with an ``AFTER INSERT`` trigger, so every append
wrote a new FTS5 segment in its own transaction (measured: ~45 % of a one-message append's
database time). From here on an append writes only the message row; the table ``messages_fts_state``
holds the watermark ``indexed_upto``: every message with ``row_id <= indexed_upto`` is in the
index, none above it is. The store indexes the rows above it in one statement on the writer
connection before any search, and at append/import time once they pass ``search.
INDEX_BATCH_ROWS`` rows. The delete and update triggers now touch the index only for rows
below the watermark; the delete trigger also lowers the watermark when the newest rows are
deleted, because SQLite then hands their row ids out again (``INTEGER PRIMARY KEY`` without
AUTOINCREMENT takes ``max(row_id) + 1``), and a reused id below the watermark would never be
indexed.

A database at 0001 has every message indexed, so the watermark starts at ``max(row_id)``.
PostgreSQL is unchanged (its GIN index is maintained by the INSERT itself).

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-21
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen copies of the statements (this revision must not change when search.py does).
_UPGRADE = [
    "DROP TRIGGER messages_fts_ai",
    "DROP TRIGGER messages_fts_ad",
    "DROP TRIGGER messages_fts_au",
    "CREATE TABLE messages_fts_state (id INTEGER PRIMARY KEY CHECK (id = 1), indexed_upto INTEGER NOT NULL)",
    "INSERT INTO messages_fts_state (id, indexed_upto) SELECT 1, coalesce(max(row_id), 0) FROM messages",
    # Deleted rows leave the index only if they were in it; when the deleted row was above every
    # remaining one, the watermark comes down to the new maximum (row id reuse, see above).
    "CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, search_words) "
    "SELECT 'delete', old.row_id, coalesce(old.search_words, '') FROM messages_fts_state "
    "WHERE old.row_id <= indexed_upto; "
    "UPDATE messages_fts_state SET indexed_upto = (SELECT coalesce(max(row_id), 0) FROM messages) "
    "WHERE indexed_upto > (SELECT coalesce(max(row_id), 0) FROM messages); "
    "END",
    # A changed word set replaces the indexed one; rows above the watermark are indexed later
    # with whatever words they hold then.
    "CREATE TRIGGER messages_fts_au AFTER UPDATE OF search_words ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, search_words) "
    "SELECT 'delete', old.row_id, coalesce(old.search_words, '') FROM messages_fts_state "
    "WHERE old.row_id <= indexed_upto; "
    "INSERT INTO messages_fts(rowid, search_words) "
    "SELECT new.row_id, coalesce(new.search_words, '') FROM messages_fts_state "
    "WHERE new.row_id <= indexed_upto; "
    "END",
]

_DOWNGRADE = [
    "DROP TRIGGER messages_fts_ad",
    "DROP TRIGGER messages_fts_au",
    # Index what is still pending, so that 0001's "every row is indexed" holds again.
    "INSERT INTO messages_fts(rowid, search_words) SELECT row_id, coalesce(search_words, '') "
    "FROM messages WHERE row_id > (SELECT indexed_upto FROM messages_fts_state)",
    "DROP TABLE messages_fts_state",
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
    if op.get_bind().dialect.name == "sqlite":
        for statement in _UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in _DOWNGRADE:
            op.execute(statement)
