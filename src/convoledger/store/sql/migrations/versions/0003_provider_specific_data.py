"""provider_calls.provider_specific_data: the fields only one provider returns (seed 004).

Seed 004 ("Comprehensive conversation management", Phase 1.3) gives every stored provider
response a ``provider_specific_data`` JSON field (``service_tier``, ``store``, an upstream
provider name, genai-prices usage units, …: what the adapter parsed into
``ProviderResponseMetadata.details``). A nullable JSON column: rows recorded before this revision
have NULL, which the store reads back as ``{}``; no backfill (their raw response is stored and
can be parsed again when needed).

Revision ID: 0003_provider_specific_data
Revises: 0002
Create Date: 2025-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_provider_specific_data"
down_revision = "0002"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    # Frozen copy of schema.json_value(): jsonb on PostgreSQL, text on SQLite.
    return sa.Text().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("provider_calls", sa.Column("provider_specific_data", _json(), nullable=True))


def downgrade() -> None:
    op.drop_column("provider_calls", "provider_specific_data")
