"""The analytics' aggregate cache (issue 13, docs/analytics.md "The aggregate cache"): the
fold's position in the log and its lot state, and per day and per month the sums that
``analytics flows``, ``concentration`` and ``warnings`` add up. Derived from the events; no
ledger table changes. The fold row starts at size 0: the first analytics run fills it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_GRAINED: dict[str, tuple[tuple[str, int], ...]] = {
    "analytics_nodes": (("measure", 16), ("stage", 64), ("country", 2), ("facility", 200),
                        ("element", 8)),
    "analytics_links": (("kind", 16), ("from_stage", 64), ("from_country", 2),
                        ("from_facility", 200), ("to_stage", 64), ("to_country", 2),
                        ("to_facility", 200), ("element", 8)),
    "analytics_outputs": (("element", 8), ("stage", 64), ("country", 2)),
    "analytics_routes": (("origin", 200), ("destination", 200)),
    "analytics_held": (("facility", 200), ("form", 16), ("element", 8)),
    "analytics_shipped": (("facility", 200),),
}  # fmt: skip
_ROUTE_VALUES = (
    ("receipts", sa.BigInteger),
    ("discrepant", sa.BigInteger),
    ("shipped_kg", sa.Float),
    ("received_kg", sa.Float),
    ("discrepant_kg", sa.Float),
)


def upgrade() -> None:
    fold = op.create_table(
        "analytics_fold",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("generation", sa.BigInteger, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("basis", sa.Text, nullable=False),
        sa.Column("first_time", sa.String(32)),
        sa.Column("last_time", sa.String(32)),
        sa.Column("unresolved", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(
        fold,
        [{"id": 1, "generation": 0, "size": 0, "root": "", "basis": "", "unresolved": 0}],
    )
    op.create_table(
        "analytics_lots",
        sa.Column("lot", sa.String(200), primary_key=True),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("facility", sa.String(200), nullable=False),
        sa.Column("form", sa.String(16), nullable=False),
        sa.Column("mass_kg", sa.Float, nullable=False),
        sa.Column("base_mass_kg", sa.Float, nullable=False),
        sa.Column("elements", sa.Text, nullable=False),
        sa.Column("pending", sa.Text),
    )
    for name, keys in _GRAINED.items():
        columns = [sa.Column("grain", sa.String(1), nullable=False),
                   sa.Column("bucket", sa.String(10), nullable=False),
                   *(sa.Column(k, sa.String(n), nullable=False) for k, n in keys)]  # fmt: skip
        values = _ROUTE_VALUES if name == "analytics_routes" else (("kg", sa.Float),)
        op.create_table(
            name,
            *columns,
            *(sa.Column(v, kind, nullable=False) for v, kind in values),
            sa.PrimaryKeyConstraint(*(c.name for c in columns)),
        )


def downgrade() -> None:
    for name in (*reversed(_GRAINED), "analytics_lots", "analytics_fold"):
        op.drop_table(name)
