"""Reads the web dashboard makes that the API has no endpoint for, each bounded so a page
costs the same on a ledger of 10^6 events as on one of 10^3 (docs/dashboard.md, "Speed"):

- ``lots_page``: one page of the lots a caller may see, by key (``after``/``before`` a lot
  id), never an offset or a sort of every match;
- ``lineage_page``: a window of a lot's lineage, walked breadth-first up its inputs from
  the lot through ``lot_events`` (bodies read only for the events shown), so a lineage of
  thousands of events costs what its first page costs;
- ``tree_sizes``: the log's size over time from the stored checkpoints, thinned to a chart's
  worth of points in the database;
- ``discrepancy_count`` and ``flow_span``: the overview's figures that ``counts`` and
  ``ledger_view`` would get by scanning every event.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, literal_column, or_, select

from raretrace.analytics import folded
from raretrace.analytics.reading import ledger_view
from raretrace.domain import jsontext
from raretrace.domain.model import Lot
from raretrace.service import reads
from raretrace.service.access import Principal, Scope
from raretrace.service.scoped import scope, visible_lot
from raretrace.store import schema
from raretrace.store.rows import lot_from_row
from raretrace.store.store import DiscrepancyRow, Store

#: The most rows one page of a table shows.
MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class LotsPage:
    """One page of lots in id order; ``before``/``after`` are the keys of the pages around
    it (None at either end) and ``total`` how many match in all (None: not counted)."""

    lots: tuple[Lot, ...]
    before: str | None
    after: str | None
    total: int | None


def _scope_clause(seen: Scope) -> ColumnElement[bool] | None:
    """The lots a scoped caller may see, as a WHERE clause (None: every lot)."""
    if seen.everything:
        return None
    t, places, holders = schema.lots, sorted(seen.facilities), sorted(seen.participants)
    return or_(
        t.c.facility.in_(places) if places else false(),
        t.c.destination.in_(places) if places else false(),
        t.c.custodian.in_(holders) if holders else false(),
        t.c.consignee.in_(holders) if holders else false(),
    )


#: A lot names a destination and a consignee only while shipped: in transit, or written off
#: on the way (``rules.apply_receive`` clears both on arrival).
_SHIPPED = ("in_transit", "written_off")


def _branches(seen: Scope) -> list[ColumnElement[bool]]:
    """The scope as index ranges whose union it is (``Scope.sees_lot``): the lots at each
    facility in scope (``ix_lots_facility_id``), held by each participant
    (``ix_lots_custodian_id``), and shipped to either (``ix_lots_status_id``)."""
    t = schema.lots
    out: list[ColumnElement[bool]] = [t.c.facility == f for f in sorted(seen.facilities)]
    out += [t.c.custodian == p for p in sorted(seen.participants)]
    places, holders = sorted(seen.facilities), sorted(seen.participants)
    bound = or_(t.c.destination.in_(places) if places else false(),
                t.c.consignee.in_(holders) if holders else false())  # fmt: skip
    out += [and_(t.c.status == status, bound) for status in _SHIPPED]
    return out


def lots_page(
    store: Store, principal: Principal, where: reads.LotFilter, *, after: str | None = None,
    before: str | None = None, limit: int = 25,
) -> LotsPage:  # fmt: skip
    """The page of lots the caller may see matching ``where`` that follows ``after`` (or
    precedes ``before``; neither: the first page), at most ``limit`` (≤ ``MAX_PAGE``).

    Every page is read by key from indexes, ids first: for a caller who sees everything one
    range (of the facility, form or status asked for, or of every lot); for a scoped one a
    range per facility and participant of its scope and the lots shipped to it, merged by
    id — never a scan of every lot, whatever the scope. Only the page's rows are read whole
    (a lot's row carries its provenance)."""
    seen = scope(store, principal, "read-lots")
    reads.check_facility(store.registry(), where.facility)
    limit = max(1, min(limit, MAX_PAGE))
    t = schema.lots
    backwards = before is not None and after is None
    key = t.c.id < before if backwards else (t.c.id > after if after is not None else None)
    with store.engine.connect() as conn:
        ids: set[str] = set()
        for branch in _ranges(seen, where):
            ids.update(_range_ids(conn, branch, key, where, backwards=backwards, want=limit + 1))
        chosen = sorted(ids, reverse=backwards)[: limit + 1]
        query = select(t).where(t.c.id.in_(chosen))
        found = {r["id"]: lot_from_row(r) for r in conn.execute(query).mappings()} if chosen else {}
        total = _count(conn, seen, where)
    lots = [found[i] for i in chosen if i in found and seen.sees_lot(found[i])]
    more = len(lots) > limit
    lots = lots[:limit]
    if backwards:
        lots.reverse()
        return LotsPage(tuple(lots), lots[0].id if more and lots else None,
                        lots[-1].id if lots else None, total)  # fmt: skip
    has_before = after is not None and bool(lots)
    return LotsPage(tuple(lots), lots[0].id if has_before else None,
                    lots[-1].id if more and lots else None, total)  # fmt: skip


def _ranges(seen: Scope, where: reads.LotFilter) -> list[ColumnElement[bool] | None]:
    """The index ranges a page is read from (None: every lot, by id)."""
    if not seen.everything:
        return list(_branches(seen))
    t = schema.lots
    for name in ("facility", "form", "status"):
        value = getattr(where, name)
        if value:
            return [t.c[name] == value]
    return [None]


def _range_ids(conn: Any, branch: ColumnElement[bool] | None, key: ColumnElement[bool] | None,
               where: reads.LotFilter, *, backwards: bool, want: int) -> list[str]:  # fmt: skip
    """The first ``want`` ids of one range (after the key) that match ``where``. The filters
    compare ``column || ''``, which no index serves, so the database walks the range's own
    index in id order and filters as it goes, instead of picking a filter's index and
    scanning all of that (every magnet of the ledger for an operator's magnets)."""
    t = schema.lots
    filters = [t.c[n].concat("") == v for n in ("facility", "form", "status")
               if (v := getattr(where, n))]  # fmt: skip
    conds = [c for c in (branch, key) if c is not None] + filters
    order = t.c.id.desc() if backwards else t.c.id
    query = select(t.c.id).where(*conds).order_by(order).limit(want)
    return [str(i) for (i,) in conn.execute(query)]


def _count(conn: Any, seen: Scope, where: reads.LotFilter) -> int | None:
    """How many lots match, where an index answers it: every lot or one filter, for a
    caller who sees everything (a scoped or combined count would read every lot: None)."""
    filters = [(name, value) for name, value in
               (("facility", where.facility), ("form", where.form), ("status", where.status))
               if value]  # fmt: skip
    if not seen.everything or len(filters) > 1:
        return None
    t = schema.lots
    query = select(func.count()).select_from(t).where(*(t.c[n] == v for n, v in filters))
    return int(conn.execute(query).scalar() or 0)


@dataclass(frozen=True, slots=True)
class LineageEvent:
    """An event of a lineage: its leaf index, body, and the kg it linked to each
    (lot, role) — ``created``, ``consumed``, ``shipped``, ``received``, ``adjusted``,
    ``claimed`` (``lot_events``)."""

    seq: int
    body: dict[str, Any]
    kg: dict[tuple[str, str], float]
    depth: int


@dataclass(frozen=True, slots=True)
class LineagePage:
    """Events ``skip``..``skip + len(events)`` of a lot's lineage in walk order (the lot's
    own events, then its inputs', breadth-first up to the mines); ``more`` whether the
    lineage goes on past them."""

    events: tuple[LineageEvent, ...]
    skip: int
    more: bool


_LOT_ROWS = select(schema.lot_events.c.seq, schema.lot_events.c.role,
                   schema.lot_events.c.mass_kg)  # fmt: skip


def lineage_page(store: Store, principal: Principal, lot_id: str, *, skip: int = 0,
                 take: int = 50) -> LineagePage:  # fmt: skip
    """Events ``skip`` to ``skip + take`` of the lineage of a lot the caller may see: the
    lot's own events, then (breadth-first) each input lot's events up to the transform that
    consumed it, as ``domain.lineage`` walks them. Costs grow with ``skip + take``, not
    with the lineage or the ledger."""
    visible_lot(store, principal, lot_id)
    take = max(1, min(take, MAX_PAGE))
    le = schema.lot_events
    order: list[tuple[int, int]] = []  # (seq, depth) in discovery order
    seen_seq: set[int] = set()
    links: dict[int, dict[tuple[str, str], float]] = {}
    cutoffs: dict[str, float] = {lot_id: float("inf")}
    queue: deque[tuple[str, int]] = deque([(lot_id, 0)])
    wanted = skip + take + 1
    with store.engine.connect() as conn:
        while queue and len(order) < wanted:
            lot, depth = queue.popleft()
            rows = conn.execute(_LOT_ROWS.where(le.c.lot == lot).order_by(le.c.seq)).all()
            for seq, role, kg in rows:
                if seq >= cutoffs[lot]:
                    continue
                links.setdefault(int(seq), {})[(lot, role)] = float(kg)
                if seq not in seen_seq:
                    seen_seq.add(seq)
                    order.append((int(seq), depth))
                if role == "created":
                    _inputs(conn, int(seq), depth, cutoffs, queue)
        shown = order[skip : skip + take]
        bodies = _bodies(conn, [s for s, _ in shown])
        _complete_links(conn, [s for s, _ in shown], links)
    events = tuple(LineageEvent(seq, bodies[seq], links.get(seq, {}), depth)
                   for seq, depth in shown)  # fmt: skip
    return LineagePage(events, skip, len(order) > skip + take)


def _inputs(conn: Any, seq: int, depth: int, cutoffs: dict[str, float],
            queue: deque[tuple[str, int]]) -> None:  # fmt: skip
    """Queue the lots a transform at ``seq`` consumed, each up to that transform."""
    le = schema.lot_events
    query = select(le.c.lot).where(le.c.seq == seq, le.c.role == "consumed")
    for (lot,) in conn.execute(query):
        if cutoffs.get(lot, -1.0) < seq:
            first = lot not in cutoffs
            cutoffs[lot] = seq
            if first:
                queue.append((lot, depth + 1))


def _bodies(conn: Any, seqs: list[int]) -> dict[int, dict[str, Any]]:
    e = schema.events
    if not seqs:
        return {}
    rows = conn.execute(select(e.c.seq, e.c.body).where(e.c.seq.in_(seqs)))
    return {int(seq): dict(jsontext.loads(body)) for seq, body in rows}


def _complete_links(conn: Any, seqs: list[int],
                    links: dict[int, dict[tuple[str, str], float]]) -> None:  # fmt: skip
    """Every lot each shown event touched (a transform's other outputs and inputs too)."""
    le = schema.lot_events
    if not seqs:
        return
    query = select(le.c.seq, le.c.lot, le.c.role, le.c.mass_kg).where(le.c.seq.in_(seqs))
    for seq, lot, role, kg in conn.execute(query):
        links.setdefault(int(seq), {})[(lot, role)] = float(kg)


@dataclass(frozen=True, slots=True)
class TreeSize:
    """The log's size at a stored checkpoint, and when that checkpoint was signed (UTC)."""

    size: int
    time: str


def tree_sizes(store: Store, *, points: int = 240) -> list[TreeSize]:
    """The log's size over time: at most about ``points`` stored checkpoints, evenly
    thinned in the database (the first and the latest always kept)."""
    c = schema.checkpoints
    with store.engine.connect() as conn:
        count = int(conn.execute(select(func.count()).select_from(c)).scalar() or 0)
        step = max(1, count // max(points, 2))
        number = func.row_number().over(order_by=c.c.size).label("n")
        ranked = select(c.c.size, c.c.time, number).subquery()
        query = select(ranked.c.size, ranked.c.time).where(
            or_((ranked.c.n - 1) % literal_column(str(step)) == 0, ranked.c.n == count)
        ).order_by(ranked.c.size)  # fmt: skip
        return [TreeSize(int(size), str(time)) for size, time in conn.execute(query)]


def discrepancy_count(store: Store, principal: Principal | None = None) -> int:
    """How many receipts differed from their shipments: all of them, or those ``principal``
    may see (``scoped.discrepancies``: at or between facilities in its scope, or of lots it
    may see) — counted in the database, not read one lot at a time."""
    d, lots = schema.discrepancies, schema.lots
    query = select(func.count()).select_from(d)
    if principal is not None:
        seen = scope(store, principal, "read-discrepancies")
        if (clause := _scope_clause(seen)) is not None:
            places = sorted(seen.facilities)
            query = query.outerjoin(lots, lots.c.id == d.c.lot).where(or_(
                d.c.origin.in_(places) if places else false(),
                d.c.destination.in_(places) if places else false(), clause))  # fmt: skip
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


def facility_discrepancies(store: Store, principal: Principal, facility: str, *,
                           limit: int = 100) -> list[DiscrepancyRow]:  # fmt: skip
    """The latest ``limit`` discrepancies of receipts from or at ``facility``, newest first,
    for a caller whose scope holds the facility (NotFound-free: an empty list otherwise)."""
    seen = scope(store, principal, "read-discrepancies")
    if not seen.sees_facilities(facility):
        return []
    d, e = schema.discrepancies, schema.events
    query = (select(d, e.c.id.label("event_id")).join(e, e.c.seq == d.c.seq)
             .where(or_(d.c.origin == facility, d.c.destination == facility))
             .order_by(d.c.seq.desc()).limit(limit))  # fmt: skip
    with store.engine.connect() as conn:
        return [DiscrepancyRow(**r._asdict()) for r in conn.execute(query)]


def flow_span(store: Store) -> tuple[str | None, str | None]:
    """The stored times of the first and last material event: kept by the analytics
    aggregate cache as it folds (read after folding any new events); a ledger the cache
    does not cover (small, or read-only) reads them from the events."""
    span = folded.cached(store, lambda _conn, state: (state.first_time, state.last_time))
    if span is not None:
        return span
    view = ledger_view(store)
    return view.first_time, view.last_time
