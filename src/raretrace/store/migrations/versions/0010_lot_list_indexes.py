"""Indexes for listing lots a page at a time (the dashboard's lots tables, docs/dashboard.md
"Speed"): lots of one facility, form or status in id order.

- ``ix_lots_facility_id`` (facility, id) and ``ix_lots_form_id`` (form, id) replace
  ``ix_lots_facility`` and ``ix_lots_form``: a page of a facility's or a form's lots by key
  (``id > last``) reads its rows from the index in order instead of sorting every match
  (a form of 129,741 lots: 387 ms a page at 10^6 events);
- ``ix_lots_status_id`` (status, id): the same for a status, and its count, which read every
  lot before (637 ms at 10^6 events).

Indexes only: no row changes; downgrading restores the two single-column indexes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NEW = (
    ("ix_lots_facility_id", ["facility", "id"]),
    ("ix_lots_form_id", ["form", "id"]),
    ("ix_lots_status_id", ["status", "id"]),
)
OLD = (("ix_lots_facility", ["facility"]), ("ix_lots_form", ["form"]))


def upgrade() -> None:
    for name, columns in NEW:
        op.create_index(name, "lots", columns)
    for name, _ in OLD:
        op.drop_index(name, table_name="lots")


def downgrade() -> None:
    for name, columns in OLD:
        op.create_index(name, "lots", columns)
    for name, _ in NEW:
        op.drop_index(name, table_name="lots")
