"""Alembic environment of the convoledger SQL store (run programmatically; no ``alembic.ini``).

``convoledger.store.sql.migrate`` builds the Alembic ``Config`` and passes an open SQLAlchemy
connection in ``config.attributes["connection"]``, already inside the transaction that holds the
migration lock (SQLite ``BEGIN IMMEDIATE``; PostgreSQL ``pg_advisory_xact_lock``), so Alembic
runs inside it and the caller commits. Offline (``--sql``) mode is not supported.
"""

from __future__ import annotations

from alembic import context

from convoledger.store.sql.schema import metadata


def run_migrations() -> None:
    """Run the pending revisions on the connection given by the caller."""
    if context.is_offline_mode():
        raise RuntimeError("convoledger migrations cannot run offline; use `convoledger db upgrade`")
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "convoledger migrations need a connection; run them with "
            "convoledger.store.sql.upgrade_database(url) or `convoledger db upgrade`"
        )
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
