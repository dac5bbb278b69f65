"""Route provenance and claims (issue 9 §1, §5): recompute every lot's stored provenance.

Each lot's provenance JSON gains ``routes`` (per conserved element, the shares of each
sequence of processing steps), and ``path`` keeps only the steps where material was processed
or held in a warehouse (a receipt elsewhere, a split or a merge is no longer a step). No column
changes: the events are replayed in log order through the domain rules (as ``raretrace
audit`` does, with the tolerance the ledger was created with) and every lot's ``provenance``
is rewritten from the replay. An event the rules refuse on replay (a database changed outside
the append path) has no effect here either; ``raretrace audit`` names it afterwards.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

from raretrace.domain import jsontext
from raretrace.domain.errors import ValidationError
from raretrace.domain.events import parse_event
from raretrace.domain.model import Lot, Tolerance
from raretrace.domain.registry import Registry
from raretrace.domain.rules import apply
from raretrace.store.rows import provenance_to_json

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_CHUNK = 4000


class _Replay:
    """The ledger rebuilt from its events (a ``rules.LedgerState``)."""

    def __init__(self) -> None:
        self.registry = Registry()
        self.lots: dict[str, Lot] = {}

    def lot(self, lot_id: str) -> Lot | None:
        return self.lots.get(lot_id)


def _tolerance(conn: sa.Connection) -> Tolerance:
    rows = {key: value for key, value in conn.execute(sa.text("SELECT key, value FROM meta"))}
    return Tolerance(
        float(rows.get("tolerance_relative", 0.005)),
        float(rows.get("tolerance_absolute_kg", 0.001)),
    )


def _events(conn: sa.Connection) -> Iterator[tuple[int, str]]:
    """Every event in log order, a chunk at a time (keyset pages: no cursor stays open while
    the lots are written on the same connection)."""
    page = sa.text("SELECT seq, body FROM events WHERE seq > :after ORDER BY seq LIMIT :n")
    after = -1
    while True:
        rows = [(seq, body) for seq, body in conn.execute(page, {"after": after, "n": _CHUNK})]
        yield from rows
        if len(rows) < _CHUNK:
            return
        after = rows[-1][0]


def upgrade() -> None:
    conn = op.get_bind()
    tolerance = _tolerance(conn)
    replay = _Replay()
    for seq, body in _events(conn):
        try:
            effects = apply(replay, parse_event(jsontext.loads(body)), seq, tolerance)
        except (ValidationError, ValueError):
            continue
        for lot in effects.lots:
            replay.lots[lot.id] = lot
        if effects.record is not None:
            replay.registry.add(effects.record)
    update = sa.text("UPDATE lots SET provenance = :provenance WHERE id = :lot_id")
    batch: list[dict[str, str]] = []
    last: tuple[object, str] = (None, "")  # a transform's outputs often share one provenance
    for lot in replay.lots.values():
        if last[0] is not lot.provenance:
            last = (lot.provenance, provenance_to_json(lot.provenance))
        batch.append({"provenance": last[1], "lot_id": lot.id})
        if len(batch) >= _CHUNK:
            conn.execute(update, batch)
            batch.clear()
    if batch:
        conn.execute(update, batch)


def downgrade() -> None:
    """Older code reads the new provenance (it ignores ``routes``); nothing to undo."""
