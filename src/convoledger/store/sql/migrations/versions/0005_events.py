"""The event outbox (issue 18): ``ledger_events`` and ``ledger_event_counters``; on PostgreSQL a
statement trigger that wakes live streams with ``NOTIFY convoledger_events``.

Every change the store commits writes its events into ``ledger_events`` in the same transaction,
numbered per owner from ``ledger_event_counters`` (see ``store/sql/outbox_sql.py`` for why a
counter row and not a sequence). On PostgreSQL the trigger sends one notification per owner and
statement, delivered when the transaction commits (never for a rolled-back one); its payload is
the hex SHA-256 of the owner id (fixed length, well under NOTIFY's 8000-byte limit, and no
account name on the channel). Listeners re-read the table: it stays the source of truth.

A frozen snapshot (does not import ``schema``). Existing databases start with no events.

Revision ID: 0005_events
Revises: 0004_forks
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_events"
down_revision = "0004_forks"
branch_labels = None
depends_on = None

_PG_NOTIFY = [
    "CREATE FUNCTION convoledger_notify_events() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "DECLARE owner text;\n"
    "BEGIN\n"
    "  FOR owner IN SELECT DISTINCT owner_id FROM new_events LOOP\n"
    "    PERFORM pg_notify('convoledger_events', encode(sha256(convert_to(owner, 'UTF8')), 'hex'));\n"
    "  END LOOP;\n"
    "  RETURN NULL;\n"
    "END $$",
    "CREATE TRIGGER ledger_events_notify AFTER INSERT ON ledger_events "
    "REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION convoledger_notify_events()",
]


def _ts() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.Text().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ledger_events",
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=True),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "id", name="pk_ledger_events"),
    )
    op.create_index(
        "ix_ledger_events_owner_conversation_id", "ledger_events", ["owner_id", "conversation_id", "id"]
    )
    op.create_table(
        "ledger_event_counters",
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", name="pk_ledger_event_counters"),
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in _PG_NOTIFY:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_events_notify ON ledger_events")
        op.execute("DROP FUNCTION IF EXISTS convoledger_notify_events()")
    op.drop_table("ledger_event_counters")
    op.drop_index("ix_ledger_events_owner_conversation_id", table_name="ledger_events")
    op.drop_table("ledger_events")
