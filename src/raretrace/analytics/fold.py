"""The fold: the flow pass (``engine.py``) run once over the log, a chunk of events at a
time, its sums kept per day and per month in the aggregate cache (``store/aggregates.py``)
with the state of every lot it still follows, so that the next run reads only the events
appended since (docs/analytics.md, "The aggregate cache").

The cache is derived: it is checked before each use and folded again from the first event
when it no longer describes this ledger (:func:`stale`). Each chunk is read in one snapshot
and committed in one short transaction that first checks no other fold committed since the
chunk was read (the fold's ``generation``); a fold that loses that race reads again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Engine

from raretrace.analytics import reading
from raretrace.analytics.concentration import StageOutputs
from raretrace.analytics.engine import FlowEngine, LotFlow, Node
from raretrace.domain.model import Facility, Tolerance
from raretrace.store import aggregates
from raretrace.store.aggregates import DAY, MONTH, SUMMED, FoldState
from raretrace.store.store import Store

__all__ = ["CHUNK", "FORMAT", "Folded", "basis", "fold_into", "stale"]

#: Events read per commit: bounds the memory of a first fill and how long one commit holds
#: SQLite's write lock (1–3 s at this size on the loaded reference machine; the rows are
#: built before the lock is taken).
CHUNK = 50_000
#: What the fold stores; a cache of another format is folded again from the start.
FORMAT = 1


@dataclass(frozen=True, slots=True)
class Folded:
    """What :func:`fold_into` did: the cache now covers ``size`` events; this run read
    ``events`` of them; ``rebuilt`` with the reason when it started again from the first."""

    size: int
    events: int
    commits: int
    rebuilt: str | None


def basis(facilities: Mapping[str, Facility], tolerance: Tolerance) -> dict[str, Any]:
    """What the sums depend on besides the events: the fold's format, the ledger's tolerance,
    and each facility's stages and country (where material is counted)."""
    return {
        "format": FORMAT,
        "tolerance": [tolerance.relative, tolerance.absolute_kg],
        "facilities": {f.id: [list(f.stages), f.country] for f in facilities.values()},
    }


def stale(conn: Connection, state: FoldState | None, size: int, now: dict[str, Any]) -> str | None:
    """Why the stored fold cannot be extended to describe this ledger (None: it can)."""
    if state is None:
        return "the fold's row is missing"
    if state.size == 0 and not state.basis:
        return None
    was = orjson.loads(state.basis) if state.basis else {}
    if was.get("format") != now["format"]:
        return f"it was made by fold format {was.get('format')}, this raretrace folds {FORMAT}"
    if was.get("tolerance") != now["tolerance"]:
        return "the ledger's tolerance is not the one it was folded with"
    for fid, place in was.get("facilities", {}).items():
        if now["facilities"].get(fid) != place:
            return f"facility {fid!r} is registered with other stages or another country now"
    if state.size > size:
        return f"it covers {state.size:,} events, the ledger holds {size:,}"
    if state.size and aggregates.checkpoint_root(conn, state.size) != state.root:
        return f"the ledger's log at {state.size:,} events is not the one it was folded from"
    return None


def fold_into(store: Store, writer: Engine, *, rebuild: bool = False, chunk: int = CHUNK) -> Folded:
    """Fold every event not yet in the cache, through ``writer`` (an engine that may write
    ``store``'s database); start again from the first event with ``rebuild`` or when the
    cache is stale. Raises the driver's error if the database refuses the writes."""
    events = commits = 0
    rebuilt: str | None = "asked to rebuild" if rebuild else None
    must_reset = rebuild
    while True:
        with writer.connect() as conn, conn.begin():
            state, step, why = _read_step(store, conn, chunk, must_reset)
        if why is not None:
            rebuilt = rebuilt or why
            if _reset(writer, state):
                must_reset = False
            continue
        if step is None or state is None:
            return Folded(0 if state is None else state.size, events, commits, rebuilt)
        rows = _Rows(
            list(_sum_rows(step)), [_lot_row(i, lot) for i, lot in step.engine.lots.items()]
        )
        if _commit(writer, state, step, rows):
            events += step.events
            commits += 1


@dataclass(slots=True)
class _Step:
    end: int
    root: str
    basis: str
    engine: FlowEngine
    outputs: StageOutputs
    loaded: set[str]
    events: int = 0
    first: str | None = None
    last: str | None = None


def _read_step(
    store: Store, conn: Connection, chunk: int, reset: bool
) -> tuple[FoldState | None, _Step | None, str | None]:
    """In one snapshot: the state, why it is stale, or the next chunk folded in memory."""
    state = aggregates.read_state(conn)
    view = reading.ledger_view(store, conn, span=False)
    now = basis(view.registry.facilities, view.tolerance)
    size = store.size(conn)
    why = "asked to rebuild" if reset else stale(conn, state, size, now)
    if why is not None or state is None or state.size >= size:
        return state, None, why
    end = aggregates.chunk_end(conn, state.size, chunk) or size
    step = _Step(
        end=end,
        root=aggregates.checkpoint_root(conn, end) or "",
        basis=orjson.dumps(now).decode(),
        engine=FlowEngine(view.registry.facilities, view.tolerance, _day, holdings=True),
        outputs=StageOutputs(view.registry.facilities, _day),
        loaded=set(),
    )
    ids = aggregates.referenced_lots(conn, state.size, end)
    for row in aggregates.lots_by_id(conn, ids):
        step.engine.lots[row["lot"]] = _lot_from_row(row)
    step.loaded = set(step.engine.lots)
    _feed(step, reading.events_after(conn, reading.FLOW_TYPES, after=state.size, upto=end))
    return state, step, None


def _day(time: str) -> str:
    return time[:10]  # stored times are fixed-width UTC: 2025-01-05T08:00:00.000000Z


def _feed(step: _Step, events: Iterator[tuple[str, dict[str, Any]]]) -> None:
    engine, outputs = step.engine, step.outputs
    first = last = None
    for time, event in events:
        engine.feed(time, event)
        if event["type"] in reading.OUTPUT_TYPES:
            outputs.feed(time, event)
        step.events += 1
        if first is None or time < first:
            first = time
        if last is None or time > last:
            last = time
    step.first, step.last = first, last


def _reset(writer: Engine, seen: FoldState | None) -> bool:
    """Empty the cache, unless another fold committed since ``seen`` was read."""
    with aggregates.fold_transaction(writer) as conn:
        now = aggregates.read_state(conn)
        if seen is not None and (now is None or now.generation != seen.generation):
            return False
        aggregates.clear(conn)
        generation = 0 if now is None else now.generation + 1
        aggregates.write_state(conn, FoldState(generation, 0, "", "", None, None, 0))
    return True


@dataclass(frozen=True, slots=True)
class _Rows:
    """A chunk's rows, built before the write lock is taken: per table its sums, and the
    state of every lot the chunk leaves active or in transit."""

    sums: list[tuple[str, list[dict[str, Any]]]]
    lots: list[dict[str, Any]]


def _commit(writer: Engine, seen: FoldState, step: _Step, rows: _Rows) -> bool:
    """Add the chunk's sums and lot states, unless another fold committed since ``seen``."""
    with aggregates.fold_transaction(writer) as conn:
        now = aggregates.read_state(conn)
        if now is None or now.generation != seen.generation:
            return False
        for table, table_rows in rows.sums:
            aggregates.add_sums(conn, table, table_rows)
        aggregates.put_lots(conn, rows.lots)
        aggregates.drop_lots(conn, step.loaded - step.engine.lots.keys())
        aggregates.write_state(
            conn,
            FoldState(
                generation=seen.generation + 1, size=step.end, root=step.root, basis=step.basis,
                first_time=_least(seen.first_time, step.first),
                last_time=_most(seen.last_time, step.last),
                unresolved=seen.unresolved + step.engine.unresolved,
            ),
        )  # fmt: skip
    return True


def _least(a: str | None, b: str | None) -> str | None:
    return b if a is None else a if b is None else min(a, b)


def _most(a: str | None, b: str | None) -> str | None:
    return b if a is None else a if b is None else max(a, b)


# -- rows -------------------------------------------------------------------------------------
Flat = dict[tuple[str, ...], tuple[float, ...]]


def _sum_rows(step: _Step) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Each table's rows for the chunk, at both grains."""
    engine = step.engine
    nodes: Flat = {}
    for (day, measure, node), els in engine.nodes.items():
        for e, kg in els.items():
            nodes[(day, measure, *node, e)] = (kg,)
    links: Flat = {}
    for (day, kind, a, b), els in engine.links.items():
        for e, kg in els.items():
            links[(day, kind, *a, *b, e)] = (kg,)
    outputs: Flat = {key: (kg,) for key, kg in step.outputs.kg.items()}
    routes: Flat = {
        key: (r.receipts, r.discrepant, r.shipped_kg, r.received_kg, r.discrepant_kg)
        for key, r in engine.routes.items()
    }
    held: Flat = {}
    for (day, facility, form), els in engine.held.items():
        for e, kg in els.items():
            held[(day, facility, form, e)] = (kg,)
    shipped: Flat = {key: (kg,) for key, kg in engine.shipped_mass.items()}
    for table, flat in (
        ("analytics_nodes", nodes), ("analytics_links", links),
        ("analytics_outputs", outputs), ("analytics_routes", routes),
        ("analytics_held", held), ("analytics_shipped", shipped),
    ):  # fmt: skip
        yield table, _rows(table, flat)


def _rows(table: str, flat: Flat) -> list[dict[str, Any]]:
    keys, values = SUMMED[table]
    names = ("grain", "bucket", *keys, *values)
    months: Flat = {}
    rows = []
    for key, vals in flat.items():
        day = key[0]
        rows.append(dict(zip(names, (DAY, *key, *vals), strict=True)))
        month = (day[:7], *key[1:])
        acc = months.get(month)
        months[month] = (
            vals if acc is None else tuple(a + b for a, b in zip(acc, vals, strict=True))
        )
    for key, vals in months.items():
        rows.append(dict(zip(names, (MONTH, *key, *vals), strict=True)))
    return rows


def _lot_row(lot_id: str, lot: LotFlow) -> dict[str, Any]:
    stage, country, facility = lot.node
    return {
        "lot": lot_id, "stage": stage, "country": country, "facility": facility,
        "form": lot.form, "mass_kg": lot.mass, "base_mass_kg": lot.base_mass,
        "elements": orjson.dumps(lot.elements).decode(),
        "pending": None if lot.pending is None else orjson.dumps(lot.pending).decode(),
    }  # fmt: skip


def _lot_from_row(row: Mapping[str, Any]) -> LotFlow:
    pending = None
    if row["pending"] is not None:
        dest, shipped, shipper, consignee = orjson.loads(row["pending"])
        pending = (_node(dest), float(shipped), str(shipper), str(consignee))
    node = (row["stage"], row["country"], row["facility"])
    return LotFlow(
        node, row["mass_kg"], row["base_mass_kg"], orjson.loads(row["elements"]), row["form"],
        pending,
    )  # fmt: skip


def _node(value: Any) -> Node:
    stage, country, facility = value
    return (str(stage), str(country), str(facility))
