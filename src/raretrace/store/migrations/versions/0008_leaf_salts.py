"""Salted leaf commitments (issue 11 §3): ``events.salt``, the 32 random bytes of each event's
log entry ``SHA-256(salt || body)``, so that the published log reveals no event content.

A log never changes its leaves, so this migration does not touch the events of an existing
log: their ``salt`` stays NULL (their entries are the bodies in clear, as they were published)
and ``meta`` gets no ``log_leaves``, which marks the ledger as one whose log must be moved to
a new log of commitments with ``raretrace log migrate`` before it accepts events
(docs/log.md, "Moving a clear-text log to commitments"); until then it reads as before. A
ledger that holds no events yet (new, or made and never used) is marked
``log_leaves = commitment`` here: it has published nothing, so its log starts as one of
commitments.

The upgrade is idempotent (the column is added only if absent), and the downgrade keeps the
column and the setting: older code ignores both, and dropping them would lose the salts, after
which the log could never be rebuilt or proven again. Older code must not append to a ledger
moved to commitments: it would publish its events in clear (``raretrace audit`` names them).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: The ``meta`` key and value that say the log's entries are salted commitments.
LEAVES_KEY = "log_leaves"
COMMITMENT = "commitment"


def upgrade() -> None:
    conn = op.get_bind()
    columns = {c["name"] for c in sa.inspect(conn).get_columns("events")}
    if "salt" not in columns:
        with op.batch_alter_table("events") as batch:
            batch.add_column(sa.Column("salt", sa.LargeBinary, nullable=True))
    empty = conn.execute(sa.text("SELECT count(*) FROM events")).scalar() == 0
    marked = conn.execute(
        sa.text("SELECT count(*) FROM meta WHERE key = :key"), {"key": LEAVES_KEY}
    ).scalar()
    if empty and not marked:
        conn.execute(
            sa.text("INSERT INTO meta (key, value) VALUES (:key, :value)"),
            {"key": LEAVES_KEY, "value": COMMITMENT},
        )


def downgrade() -> None:
    """Nothing to undo (see the module's docstring): the salts are kept."""
