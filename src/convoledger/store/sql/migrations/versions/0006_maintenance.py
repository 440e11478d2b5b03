"""Lifecycle automation (issue 13): the maintenance pass log, the policy deletion records, the alerts
and the SQLite lease row (``maintenance/journal.py``).

A frozen snapshot (does not import ``schema``). Existing databases start with empty tables.

Revision ID: 0006_maintenance
Revises: 0005_events
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006_maintenance"
down_revision = "0005_events"
branch_labels = None
depends_on = None


def _ts() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def _big_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "maintenance_passes",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("started_at", _ts(), nullable=False),
        sa.Column("finished_at", _ts(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_maintenance_passes"),
    )
    op.create_table(
        "maintenance_deletions",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=False),
        sa.Column("session_id", sa.Text(), nullable=True),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("backup_id", sa.Text(), nullable=True),
        sa.Column("at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_maintenance_deletions"),
    )
    op.create_index("ix_maintenance_deletions_owner_id", "maintenance_deletions", ["owner_id", "id"])
    op.create_table(
        "maintenance_alerts",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_maintenance_alerts"),
    )
    op.create_index("ix_maintenance_alerts_owner_id", "maintenance_alerts", ["owner_id", "id"])
    op.create_index(
        "ix_maintenance_alerts_owner_id_conversation_id",
        "maintenance_alerts",
        ["owner_id", "conversation_id", "kind", "at"],
    )
    op.create_table(
        "maintenance_leases",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("expires_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_maintenance_leases"),
    )


def downgrade() -> None:
    op.drop_table("maintenance_leases")
    op.drop_index("ix_maintenance_alerts_owner_id_conversation_id", table_name="maintenance_alerts")
    op.drop_index("ix_maintenance_alerts_owner_id", table_name="maintenance_alerts")
    op.drop_table("maintenance_alerts")
    op.drop_index("ix_maintenance_deletions_owner_id", table_name="maintenance_deletions")
    op.drop_table("maintenance_deletions")
    op.drop_table("maintenance_passes")
