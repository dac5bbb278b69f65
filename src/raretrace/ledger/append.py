"""The one write path: parse → check rules → apply → write, a batch per transaction.

Every accepted event is applied whole and written in the same transaction as the rest of its
batch; a rejected event leaves no trace. Re-sending an event that is already in the ledger,
byte for byte the same once canonicalised, is a no-op; a different event under a used id is
rejected.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, insert, text, update

from raretrace.domain.canonical import canonical_json
from raretrace.domain.errors import RaretraceError, ValidationError
from raretrace.domain.events import (
    AdjustEvent,
    LedgerEvent,
    ReceiveEvent,
    ShipEvent,
    TransformEvent,
    parse_event,
)
from raretrace.domain.model import Lot, Participant, Tolerance
from raretrace.domain.registry import Registry
from raretrace.domain.rules import apply
from raretrace.ledger.batch import BatchState
from raretrace.ledger.cache import LotCache
from raretrace.store import schema
from raretrace.store.bulk import executemany
from raretrace.store.engine import WRITE_OPTION
from raretrace.store.rows import facility_to_json, lot_to_row, provenance_to_json
from raretrace.store.store import Store

DEFAULT_BATCH = 2000


@dataclass(frozen=True, slots=True)
class Rejection:
    """One refused input: where it was, which event, and the rule it broke."""

    line: int
    event_id: str | None
    error: RaretraceError

    @property
    def rule(self) -> str:
        return self.error.rule if isinstance(self.error, ValidationError) else "format"


@dataclass(slots=True)
class IngestReport:
    """What an ingest did: counts, and the rejections in input order."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    discrepancies: int = 0
    rejections: list[Rejection] = field(default_factory=list)


Source = Iterable[tuple[int, str | dict[str, Any]]]


def _referenced_lots(event: LedgerEvent) -> list[str]:
    if isinstance(event, ShipEvent | ReceiveEvent | AdjustEvent):
        return [event.lot]
    if isinstance(event, TransformEvent):
        return [i.lot for i in event.inputs] + [o.lot for o in event.outputs]
    outputs = getattr(event, "outputs", ())
    return [o.lot for o in outputs]


def _decode(item: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    try:
        obj = json.loads(item)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            "format", "line", f"not valid JSON ({exc.msg} at column {exc.colno})"
        ) from None
    if not isinstance(obj, dict):
        raise ValidationError("format", "line", "each line must hold one JSON object")
    return obj


class Ledger:
    """The append path over one store. Not thread-safe: one Ledger writes at a time."""

    def __init__(self, store: Store) -> None:
        store.require_ready()
        self.store = store
        self.tolerance: Tolerance = store.tolerance()
        self._registry: Registry = store.registry()
        self._cache = LotCache()

    @property
    def registry(self) -> Registry:
        return self._registry

    def append(self, event: dict[str, Any]) -> IngestReport:
        """Apply one event (a batch of one); raises the rejection instead of reporting it."""
        report = self.ingest([(1, event)])
        if report.rejections:
            raise report.rejections[0].error
        return report

    def ingest(
        self,
        source: Source,
        *,
        batch_size: int = DEFAULT_BATCH,
        on_batch: Callable[[IngestReport], None] | None = None,
    ) -> IngestReport:
        """Apply a stream of (line number, JSON text or object), a transaction per batch."""
        report = IngestReport()
        with _young_garbage_only():
            for chunk in _chunks(source, batch_size):
                self._ingest_batch(chunk, report)
                gc.collect(1)
                if on_batch is not None:
                    on_batch(report)
        return report

    def _ingest_batch(
        self, chunk: list[tuple[int, str | dict[str, Any]]], report: IngestReport
    ) -> None:
        events: list[tuple[int, LedgerEvent, str]] = []
        for line, item in chunk:
            try:
                raw = _decode(item)
                events.append((line, parse_event(raw), stored_body(raw, item)))
            except ValidationError as exc:
                report.rejected += 1
                report.rejections.append(Rejection(line, _event_id(item), exc))
        lot_ids = {lot for _, ev, _ in events for lot in _referenced_lots(ev)}
        registry_before = self._registry
        try:
            with self.store.engine.connect() as conn, _writing(conn).begin():
                _lock_writers(conn)
                size = self.store.size(conn)
                if self._cache.size != size:  # someone else wrote: re-read the registry too
                    self._registry = registry_before = self.store.registry(conn)
                state = BatchState(
                    registry=_copy_registry(self._registry),
                    stored=self._read_lots(conn, size, lot_ids),
                    next_seq=size,
                )
                state.bodies.update(self.store.event_bodies(conn, (ev.id for _, ev, _ in events)))
                batch_report = IngestReport()
                for line, event, body in events:
                    self._apply_one(state, line, event, body, batch_report)
                written = _write(conn, state, self._cache)
        except BaseException:
            self._registry = registry_before
            self._cache.clear()
            raise
        for lot, provenance_json in written:
            self._cache.put(lot, provenance_json)
        self._cache.size = state.next_seq
        self._registry = state.registry
        report.accepted += batch_report.accepted
        report.duplicates += batch_report.duplicates
        report.rejected += batch_report.rejected
        report.discrepancies += batch_report.discrepancies
        report.rejections.extend(batch_report.rejections)
        report.rejections.sort(key=lambda r: r.line)

    def _read_lots(self, conn: Connection, size: int, ids: set[str]) -> dict[str, Lot]:
        """Lots by id, from the cache where it is still valid, else from the database."""
        self._cache.validate(size)
        found = self._cache.lots(ids)
        missing = ids - found.keys()
        if missing:
            for lot_id, (lot, provenance_json) in self.store.lots_by_id(conn, missing).items():
                self._cache.put(lot, provenance_json)
                found[lot_id] = lot
        return found

    def _apply_one(
        self,
        state: BatchState,
        line: int,
        event: LedgerEvent,
        body: str,
        report: IngestReport,
    ) -> None:
        try:
            known = state.bodies.get(event.id)
            if known is not None:
                if not same_event(known, body):
                    raise ValidationError(
                        "duplicate-event-id",
                        f"event {event.id!r}",
                        "an accepted event already has this id with different content;"
                        " give every event a unique id",
                    )
                report.duplicates += 1
                return
            effects = apply(state, event, state.next_seq, self.tolerance)
        except ValidationError as exc:
            report.rejected += 1
            report.rejections.append(Rejection(line, event.id, exc))
            return
        row = {
            "id": event.id,
            "type": event.type,
            "time": event.time,
            "actor": event.actor,
            "body": body,
        }
        state.commit(row, effects)
        report.accepted += 1
        if effects.discrepancy is not None:
            report.discrepancies += 1


def _lock_writers(conn: Connection) -> None:
    # One writer at a time: sequence numbers are assigned from the current size. SQLite's
    # BEGIN IMMEDIATE already serializes; PostgreSQL needs a transaction-scoped lock.
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_WRITER_LOCK})


_PG_WRITER_LOCK = 0x52415245  # "RARE"


def _writing(conn: Connection) -> Connection:
    return conn.execution_options(**{WRITE_OPTION: True})


def stored_body(raw: dict[str, Any], item: str | dict[str, Any]) -> str:
    """The stored form of an event: the JSON text as received, or compact JSON for objects.

    Keeping the submitted text costs nothing and keeps exactly what the participant sent.
    Re-sends are compared after canonicalisation (``same_event``), so key order and spacing
    do not matter.
    """
    if isinstance(item, str):
        return item.strip()
    return json.dumps(raw, separators=(",", ":"), ensure_ascii=False)


def same_event(a: str, b: str) -> bool:
    """Whether two stored bodies are the same event (RFC 8785 canonical forms equal)."""
    return a == b or canonical_json(json.loads(a)) == canonical_json(json.loads(b))


def _event_id(item: str | dict[str, Any]) -> str | None:
    if isinstance(item, dict):
        value = item.get("id")
        return value if isinstance(value, str) else None
    return None


def _copy_registry(reg: Registry) -> Registry:
    return Registry(dict(reg.participants), dict(reg.facilities))


@contextmanager
def _young_garbage_only() -> Iterator[None]:
    """Collect only young objects, once per batch, while ingesting.

    The lot cache keeps ~10^5 long-lived objects; Python's automatic collector would walk
    all of them over and over during a large ingest (measured: a third of the run time).
    The append path makes no reference cycles of its own, and collecting generations 0-1
    after every batch keeps memory flat; full collections resume afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _chunks(source: Source, size: int) -> Iterator[list[tuple[int, str | dict[str, Any]]]]:
    chunk: list[tuple[int, str | dict[str, Any]]] = []
    for item in source:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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


def _write(conn: Connection, state: BatchState, cache: LotCache) -> list[tuple[Lot, str]]:
    """Write one batch's accepted events and their effects (inside the caller's transaction).

    Returns each written lot with its stored provenance JSON, for the cache once committed.
    """
    if not state.events:
        return []
    executemany(conn, _INSERTS["events"], state.events)
    _write_records(conn, state)
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
        if isinstance(record, Participant):
            table = schema.participants
            values: dict[str, Any] = {"name": record.name, "country": record.country, "seq": seq}
        else:
            table = schema.facilities
            values = {
                "name": record.name,
                "operator": record.operator,
                "country": record.country,
                "stage": record.stage,
                "seq": seq,
                "body": json.dumps(facility_to_json(record), separators=(",", ":")),
            }
        done = conn.execute(update(table).where(table.c.id == record.id).values(values))
        if done.rowcount == 0:
            conn.execute(insert(table).values(id=record.id, **values))
