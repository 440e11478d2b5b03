"""PostgreSQL: the ``NOTIFY convoledger_events`` that wakes live streams moves from a statement
trigger on ``ledger_events`` into the store's own statements (issue 15).

Revision ``0005_events`` notified from an ``AFTER INSERT … FOR EACH STATEMENT`` trigger with a
transition table. Measured on a one-message append (asyncpg, local server): the trigger's
machinery (transition table, PL/pgSQL loop, SHA-256 in SQL) cost ~40 µs of the statement's
~500 µs, beside the notification itself. Each statement that writes events now selects
``pg_notify('convoledger_events', <owner key>)`` once, with the key computed by the client
(``store.outbox.owner_key``, the same hex SHA-256), so streams still wake at commit exactly when
events were written. Only rows written by other tools than convoledger no longer wake anyone at
once; streams re-read the table every ``stream_poll`` seconds anyway.

SQLite: nothing to do. Frozen: does not import the store's modules.

Revision ID: 0007_notify_in_statements
Revises: 0006_maintenance
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0007_notify_in_statements"
down_revision = "0006_maintenance"
branch_labels = None
depends_on = None

#: Revision 0005's trigger and function, as it created them (for the downgrade).
_PG_NOTIFY_0005 = [
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


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_events_notify ON ledger_events")
        op.execute("DROP FUNCTION IF EXISTS convoledger_notify_events()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _PG_NOTIFY_0005:
            op.execute(statement)
