"""Forks: the lineage of a branch on its conversation row (issue 17).

``conversations.parent_id`` (the conversation it was forked from, same owner) and
``conversations.forked_at_seq`` (the parent's seq it shares history up to), both NULL for a
conversation that is not a branch; ``ix_conversations_owner_parent (owner_id, parent_id)``,
partial on branches, finds a conversation's branches (``Store.list_branches`` and the check
that refuses removing history a branch shares, ``store/lineage.py``). Existing rows are not
branches: nothing to backfill.

Revision ID: 0004_forks
Revises: 0003_provider_specific_data
Create Date: 2025-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_forks"
down_revision = "0003_provider_specific_data"
branch_labels = None
depends_on = None


def _ordered_text() -> sa.types.TypeEngine[str]:
    # Frozen copy of schema.ordered_text (this revision must not change when schema.py does).
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.add_column("conversations", sa.Column("parent_id", _ordered_text(), nullable=True))
    op.add_column("conversations", sa.Column("forked_at_seq", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_conversations_owner_parent",
        "conversations",
        ["owner_id", "parent_id"],
        sqlite_where=sa.text("parent_id IS NOT NULL"),
        postgresql_where=sa.text("parent_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_owner_parent", table_name="conversations")
    # Plain ALTER TABLE … DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch "move and copy" of
    # the table would fire the ON DELETE CASCADE of every child table on SQLite.
    op.execute("ALTER TABLE conversations DROP COLUMN forked_at_seq")
    op.execute("ALTER TABLE conversations DROP COLUMN parent_id")
