"""Writing one batch's accepted events and their effects, inside the batch's transaction.

Called only from ``raretrace.ledger.append`` (the one write path).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, insert, update

from raretrace.domain.licensing import RECORD_KINDS, ComplianceRecord
from raretrace.domain.model import Facility, Lot, Participant
from raretrace.ledger.batch import BatchState
from raretrace.ledger.cache import LotCache
from raretrace.store import schema
from raretrace.store.bulk import executemany
from raretrace.store.rows import (
    case_row,
    compliance_record_row,
    lot_to_row,
    provenance_to_json,
    record_row,
)

_LOT_COLUMNS = [c.name for c in schema.lots.columns if c.name != "id"]
_LOT_UPDATE = (
    update(schema.lots)
    .where(schema.lots.c.id == bindparam("b_id"))
    .values({name: bindparam(name) for name in _LOT_COLUMNS})
)
# Most updates (shipments, partial consumption, adjustments) leave provenance as it was;
# not rewriting it saves most of the bytes written.
_LOT_UPDATE_KEEP_PROVENANCE = (
    update(schema.lots)
    .where(schema.lots.c.id == bindparam("b_id"))
    .values({name: bindparam(name) for name in _LOT_COLUMNS if name != "provenance"})
)
_INSERTS = {
    t.name: insert(t).values({c.name: bindparam(c.name) for c in t.columns})
    for t in (schema.events, schema.lots, schema.lot_events, schema.discrepancies)
}


def write_batch(conn: Connection, state: BatchState, cache: LotCache) -> list[tuple[Lot, str]]:
    """Write one batch's accepted events and their effects (inside the caller's transaction).

    Returns each written lot with its stored provenance JSON, for the cache once committed.
    """
    if not state.events:
        return []
    executemany(conn, _INSERTS["events"], state.events)
    _write_records(conn, state)
    _write_cases(conn, state)
    new_rows: list[dict[str, Any]] = []
    full_updates: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    shared: dict[int, str] = {}  # outputs of one transform share a Provenance object
    written = []
    for lot in state.changed.values():
        kept = cache.stored_provenance(lot) if lot.id in state.stored else None
        text = kept or shared.get(id(lot.provenance)) or provenance_to_json(lot.provenance)
        shared[id(lot.provenance)] = text
        row = lot_to_row(lot, text)
        written.append((lot, text))
        if lot.id not in state.stored:
            new_rows.append(row)
            continue
        row["b_id"] = row.pop("id")
        (updates if kept else full_updates).append(row)
    executemany(conn, _INSERTS["lots"], new_rows)
    executemany(conn, _LOT_UPDATE, full_updates)
    executemany(conn, _LOT_UPDATE_KEEP_PROVENANCE, updates)
    executemany(conn, _INSERTS["lot_events"], state.links)
    executemany(
        conn,
        _INSERTS["discrepancies"],
        [
            {
                "seq": seq,
                "lot": d.lot,
                "origin": d.origin,
                "destination": d.destination,
                "shipped_kg": d.shipped_kg,
                "received_kg": d.received_kg,
                "ship_seq": d.ship_seq,
                "time": d.time,
            }
            for seq, d in state.discrepancies
        ],
    )
    return written


def _write_records(conn: Connection, state: BatchState) -> None:
    for seq, record in state.records:
        if not isinstance(record, Participant | Facility):
            _write_compliance_record(conn, record, seq)
            continue
        table = schema.participants if isinstance(record, Participant) else schema.facilities
        values = record_row(record, seq)
        done = conn.execute(update(table).where(table.c.id == record.id).values(values))
        if done.rowcount == 0:
            conn.execute(insert(table).values(id=record.id, **values))


def _write_compliance_record(conn: Connection, record: ComplianceRecord, seq: int) -> None:
    table, kind = schema.registry_records, RECORD_KINDS[type(record)]
    values = compliance_record_row(record, seq)
    where = (table.c.kind == kind) & (table.c.id == record.id)
    if conn.execute(update(table).where(where).values(values)).rowcount == 0:
        conn.execute(insert(table).values(kind=kind, id=record.id, **values))


def _write_cases(conn: Connection, state: BatchState) -> None:
    """The clearinghouse's projections: each case as the batch's last event left it, and one
    ``case_steps`` row per step (docs/clearinghouse.md)."""
    for seq, case in state.cases:
        name, values = case_row(case, seq)
        table = schema.metadata.tables[name]
        if conn.execute(update(table).where(table.c.id == case.id).values(values)).rowcount == 0:
            conn.execute(insert(table).values(id=case.id, **values))
    if state.case_steps:
        conn.execute(insert(schema.case_steps), state.case_steps)
