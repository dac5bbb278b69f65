"""An index on lots (custodian, id): the lots a participant holds, in id order.

An operator's, auditor's or authority's page of lots (the dashboard's lots list,
``service.dashboard.lots_page``) is the union of index ranges — the lots at each facility in
its scope (``ix_lots_facility_id``), those it holds (this index), and those in transit to it
(``ix_lots_status_id``) — merged by id, instead of one scan of every lot filtered by scope,
which for a participant with few lots read the whole table (0.9-4.2 s a page at 10^6
events). Held lots change custodian only when received, so the index costs one update per
receipt.

An index only: no row changes, and downgrading drops it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_lots_custodian_id", "lots", ["custodian", "id"])


def downgrade() -> None:
    op.drop_index("ix_lots_custodian_id", table_name="lots")
