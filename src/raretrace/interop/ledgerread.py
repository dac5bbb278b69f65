"""The interchange package's one seam to a stored ledger: what its exports read, all of it
read-only and in one snapshot per call. Everything else in ``raretrace.interop`` works on
plain values (``tests/interop/test_layers.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from raretrace.domain import jsontext
from raretrace.domain.errors import NotFound
from raretrace.domain.registry import Registry
from raretrace.domain.views import lot_view
from raretrace.interop.urns import CustodyEvent
from raretrace.ledger.recompute import StoredHistory
from raretrace.store import schema
from raretrace.store.store import Store
from raretrace.verify import closure_events, lineage_closure

CUSTODY = ("extract", "ship", "receive", "transform", "adjust", "claim")
_CHUNK = 900


@dataclass(frozen=True, slots=True)
class LedgerExtract:
    """Custody events (log order), the registry now, and the JSON views of their lots."""

    events: tuple[CustodyEvent, ...]
    registry: Registry
    lots: dict[str, dict[str, Any]]


@contextmanager
def _snapshot(store: Store) -> Iterator[Connection]:
    """One consistent read (REPEATABLE READ on PostgreSQL, one WAL read on SQLite)."""
    with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def lot_lineage(store: Store, lot_id: str) -> LedgerExtract:
    """The events a lot's lineage rests on (what its evidence bundle holds), with the kg
    linked to each, the registry and the views of every lot they touch."""
    with _snapshot(store) as conn:
        if lot_id not in store.lots_by_id(conn, [lot_id]):
            raise NotFound(f"lot {lot_id!r} is not in the ledger; list lots with `raretrace lots`")
        history = StoredHistory(conn)
        rows = closure_events(history, lineage_closure(history, lot_id))
        bodies = [(seq, dict(body)) for seq, (_, _, body) in sorted(rows.items())]
        return _extract(store, conn, [(s, b) for s, b in bodies if b.get("type") in CUSTODY])


def events_between(store: Store, start: str, end: str) -> LedgerExtract:
    """Every custody event with ``start`` ≤ time < ``end`` (normalized UTC times)."""
    ev = schema.events
    query = (
        select(ev.c.seq, ev.c.body)
        .where(ev.c.type.in_(CUSTODY), ev.c.time >= start, ev.c.time < end)
        .order_by(ev.c.seq)
    )
    with _snapshot(store) as conn:
        rows = [(int(seq), dict(jsontext.loads(body))) for seq, body in conn.execute(query)]
        return _extract(store, conn, rows)


def _extract(
    store: Store, conn: Connection, rows: Sequence[tuple[int, dict[str, Any]]]
) -> LedgerExtract:
    links = _links(conn, [seq for seq, _ in rows])
    events = tuple(CustodyEvent(seq, body, links.get(seq, {})) for seq, body in rows)
    touched = {lot for by_seq in links.values() for lot, _ in by_seq}
    found = store.lots_by_id(conn, touched)
    views = {lot_id: lot_view(lot) for lot_id, (lot, _) in found.items()}
    return LedgerExtract(events, store.registry(conn), views)


def _links(conn: Connection, seqs: Iterable[int]) -> dict[int, dict[tuple[str, str], float]]:
    le = schema.lot_events
    wanted = sorted(set(seqs))
    out: dict[int, dict[tuple[str, str], float]] = {}
    for i in range(0, len(wanted), _CHUNK):
        query = select(le.c.seq, le.c.lot, le.c.role, le.c.mass_kg).where(
            le.c.seq.in_(wanted[i : i + _CHUNK])
        )
        for seq, lot, role, kg in conn.execute(query):
            out.setdefault(int(seq), {})[(lot, role)] = float(kg)
    return out


def deliveries(store: Store, participant: str, start: str, end: str) -> list[CustodyEvent]:
    """The ship events ``participant`` made with ``start`` ≤ time < ``end``, with kg."""
    ev = schema.events
    query = (
        select(ev.c.seq, ev.c.body)
        .where(ev.c.type == "ship", ev.c.actor == participant, ev.c.time >= start,
               ev.c.time < end)
        .order_by(ev.c.seq)
    )  # fmt: skip
    with _snapshot(store) as conn:
        rows = [(int(seq), dict(jsontext.loads(body))) for seq, body in conn.execute(query)]
        links = _links(conn, [seq for seq, _ in rows])
    return [CustodyEvent(seq, body, links.get(seq, {})) for seq, body in rows]


def lineage_facilities(store: Store, lot_ids: Iterable[str]) -> dict[str, set[str]]:
    """Per lot, the facilities where its material was extracted or transformed (the
    creating events of the lot and, recursively, of every input)."""
    out: dict[str, set[str]] = {}
    with _snapshot(store) as conn:
        history = StoredHistory(conn)
        for lot_id in lot_ids:
            rows = closure_events(history, lineage_closure(history, lot_id))
            out[lot_id] = {
                str(body["facility"])
                for _, _, body in rows.values()
                if body.get("type") in ("extract", "transform")
            }
    return out


def lot_views(store: Store, lot_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The JSON views (``trace --json``'s lot fields) of the lots that exist."""
    with _snapshot(store) as conn:
        found = store.lots_by_id(conn, list(lot_ids))
    return {lot_id: lot_view(lot) for lot_id, (lot, _) in found.items()}


def as_made(store: Store, lot_ids: Iterable[str]) -> dict[str, tuple[float, dict[str, float]]]:
    """Each lot's mass and elements as the event that made it recorded them: the ratio of
    elements to mass, which receipts, adjustments and partial use scale but never change."""
    ev = schema.events
    with _snapshot(store) as conn:
        lots = {lot_id: lot for lot_id, (lot, _) in store.lots_by_id(conn, list(lot_ids)).items()}
        seqs = sorted({lot.created_seq for lot in lots.values()})
        bodies: dict[int, Any] = {}
        for i in range(0, len(seqs), _CHUNK):
            query = select(ev.c.seq, ev.c.body).where(ev.c.seq.in_(seqs[i : i + _CHUNK]))
            bodies.update({int(s): jsontext.loads(b) for s, b in conn.execute(query)})
    out = {}
    for lot_id, lot in lots.items():
        spec = next(o for o in bodies[lot.created_seq]["outputs"] if o["lot"] == lot_id)
        out[lot_id] = (
            float(spec["mass_kg"]),
            {e: float(v) for e, v in spec["elements_kg"].items()},
        )
    return out
