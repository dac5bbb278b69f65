"""``raretrace.domain.lineage`` over the database: re-derive a stored lot from its events."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, select

from raretrace.domain import jsontext, lineage
from raretrace.domain.errors import VerificationError
from raretrace.domain.lineage import differences
from raretrace.domain.model import Facility, Lot
from raretrace.domain.registry import Registry, parse_facility, parse_participant
from raretrace.ledger.settings import LedgerSettings
from raretrace.store import schema
from raretrace.store.store import Store

__all__ = ["StoredHistory", "differences", "lots_touched", "recompute_lot"]

# A lineage asks for the events of every upstream lot: one statement, built once.
_EVENTS_OF_LOT = (
    select(schema.lot_events.c.seq, schema.lot_events.c.role, schema.events.c.body)
    .join(schema.events, schema.events.c.seq == schema.lot_events.c.seq)
    .where(schema.lot_events.c.lot == bindparam("lot"))
    .order_by(schema.lot_events.c.seq)
)


@dataclass
class StoredHistory:
    """An ``EventSource`` reading the events and registry records of a stored ledger."""

    conn: Connection
    facilities: dict[str, list[tuple[int, Facility]]] = field(default_factory=dict)
    lot_events: dict[str, list[tuple[int, str, Mapping[str, Any]]]] = field(default_factory=dict)

    def load_registry(self) -> None:
        reg = Registry()
        query = (
            select(schema.events.c.seq, schema.events.c.type, schema.events.c.body)
            .where(schema.events.c.type.in_(("participant", "facility")))
            .order_by(schema.events.c.seq)
        )
        for seq, kind, body in self.conn.execute(query):
            record = jsontext.loads(body)[kind]
            if kind == "participant":
                reg.add(parse_participant(record))
            else:
                f = parse_facility(record, reg.participants)
                reg.add(f)
                self.facilities.setdefault(f.id, []).append((seq, f))

    def facility(self, facility_id: str, before: int) -> Facility:
        versions = self.facilities.get(facility_id, [])
        i = bisect.bisect_left([s for s, _ in versions], before)
        if i == 0:
            raise VerificationError(f"facility {facility_id!r} was not registered before #{before}")
        return versions[i - 1][1]

    def events_of(self, lot_id: str) -> list[tuple[int, str, Mapping[str, Any]]]:
        found = self.lot_events.get(lot_id)
        if found is None:
            rows = self.conn.execute(_EVENTS_OF_LOT, {"lot": lot_id})
            found = [(seq, role, jsontext.loads(body)) for seq, role, body in rows]
            self.lot_events[lot_id] = found
        return found


def recompute_lot(store: Store, lot_id: str) -> Lot:
    """The stored lot's current state and provenance, derived from its events only."""
    with store.engine.connect() as conn:
        history = StoredHistory(conn)
        history.load_registry()
        tolerance = LedgerSettings.from_meta(store.meta(conn)).tolerance
        return lineage.recompute_lot(history, lot_id, tolerance)


def lots_touched(store: Store) -> dict[str, int]:
    """Lot ids and how many events touched each (for audits that sample lots)."""
    counts: dict[str, int] = defaultdict(int)
    with store.engine.connect() as conn:
        for (lot,) in conn.execute(select(schema.lot_events.c.lot)):
            counts[lot] += 1
    return dict(counts)
