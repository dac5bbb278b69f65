"""Trust: participant records with keys, and the log's signed checkpoints.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("body", sa.Text, nullable=True))
    op.create_table(
        "checkpoints",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("time", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("checkpoints")
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("body")
