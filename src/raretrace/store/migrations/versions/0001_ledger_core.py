"""Ledger core: events, registry, lots, lot/event links, discrepancies.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("id", sa.String(200), nullable=False, unique=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("time", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "participants",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("seq", sa.BigInteger, sa.ForeignKey("events.seq"), nullable=False),
    )
    op.create_table(
        "facilities",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("operator", sa.String(200), sa.ForeignKey("participants.id"), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, sa.ForeignKey("events.seq"), nullable=False),
    )
    op.create_table(
        "lots",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("form", sa.String(16), nullable=False),
        sa.Column("mass_kg", sa.Float, nullable=False),
        sa.Column("elements", sa.Text, nullable=False),
        sa.Column("custodian", sa.String(200), nullable=False),
        sa.Column("facility", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("time", sa.String(32), nullable=False),
        sa.Column("created_seq", sa.BigInteger, nullable=False),
        sa.Column("provenance", sa.Text, nullable=False),
        sa.Column("destination", sa.String(200)),
        sa.Column("consignee", sa.String(200)),
        sa.Column("shipped_seq", sa.BigInteger),
    )
    op.create_index("ix_lots_facility", "lots", ["facility"])
    op.create_index("ix_lots_form", "lots", ["form"])
    op.create_table(
        "lot_events",
        sa.Column("lot", sa.String(200), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("mass_kg", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("lot", "seq", "role"),
    )
    op.create_index("ix_lot_events_seq", "lot_events", ["seq"])
    op.create_table(
        "discrepancies",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("lot", sa.String(200), nullable=False),
        sa.Column("origin", sa.String(200), nullable=False),
        sa.Column("destination", sa.String(200), nullable=False),
        sa.Column("shipped_kg", sa.Float, nullable=False),
        sa.Column("received_kg", sa.Float, nullable=False),
        sa.Column("ship_seq", sa.BigInteger, nullable=False),
        sa.Column("time", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    for table in ("discrepancies", "lot_events", "lots", "facilities", "participants"):
        op.drop_table(table)
    op.drop_table("events")
    op.drop_table("meta")
