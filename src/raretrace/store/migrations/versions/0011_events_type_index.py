"""An index on events (type, seq): the participant events of the log, in order.

Opening a ledger reads the history of every participant's keys (``ledger.keylog.KeyLog``:
``WHERE type = 'participant' AND seq >= n ORDER BY seq``), and without an index that scanned
the whole events table (40-160 ms at 20,000 events on a loaded machine, about ten times that
at 200,000), paid by every command that opens a ledger and after every rollback. With
``ix_events_type_seq`` it is a range of the index: the cost follows the participant events
(a few hundred), not the ledger's size.

An index only: no row changes, and downgrading drops it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_type_seq", "events", ["type", "seq"])


def downgrade() -> None:
    op.drop_index("ix_events_type_seq", table_name="events")
