"""Indexes for the service's reads (issue 11 §6): a lot's discrepancies, and the registry's
version.

- ``ix_discrepancies_lot`` (lot, seq): the discrepancies in a lot's lineage are found lot by
  lot along the walk up its inputs (``Store.lineage_discrepancies``), instead of testing
  every discrepancy of the ledger against the walk (≈ 8 ms a trace at 20,000 events, 48 ms
  at 200,000, growing with the ledger).
- ``ix_participants_seq``, ``ix_facilities_seq``, ``ix_registry_records_seq``: the newest
  registry event that set a record (``Store.registry_version``), so a process keeps the parsed
  registry and re-reads it only when that changes.

Indexes only: no row changes, and downgrading drops them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_discrepancies_lot", "discrepancies", ["lot", "seq"]),
    ("ix_participants_seq", "participants", ["seq"]),
    ("ix_facilities_seq", "facilities", ["seq"]),
    ("ix_registry_records_seq", "registry_records", ["seq"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
