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


def lots_page(
    store: Store, principal: Principal, where: reads.LotFilter, *, after: str | None = None,
    before: str | None = None, limit: int = 25,
) -> LotsPage:  # fmt: skip
    """The page of lots the caller may see matching ``where`` that follows ``after`` (or
    precedes ``before``; neither: the first page), at most ``limit`` (≤ ``MAX_PAGE``)."""
    seen = scope(store, principal, "read-lots")
    reads.check_facility(store.registry(), where.facility)
    limit = max(1, min(limit, MAX_PAGE))
    t = schema.lots
    conds = [t.c[name] == value for name, value in
             (("facility", where.facility), ("form", where.form), ("status", where.status))
             if value]  # fmt: skip
    if (clause := _scope_clause(seen)) is not None:
        conds.append(clause)
    base = and_(*conds) if conds else None
    backwards = before is not None and after is None
    query = select(t)
    if base is not None:
        query = query.where(base)
    if backwards:
        query = query.where(t.c.id < before).order_by(t.c.id.desc())
    else:
        query = query.where(t.c.id > after) if after is not None else query
        query = query.order_by(t.c.id)
    # Counted only where an index answers it (every lot, or one filter, for a caller who
    # sees everything); a scoped or combined filter would read every lot to count them.
    filters = sum(1 for v in (where.facility, where.form, where.status) if v)
    counting = None
    if seen.everything and filters <= 1:
        counting = select(func.count()).select_from(t)
        counting = counting.where(base) if base is not None else counting
    with store.engine.connect() as conn:
        rows = [lot_from_row(r) for r in conn.execute(query.limit(limit + 1)).mappings()]
        total = None if counting is None else int(conn.execute(counting).scalar() or 0)
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
        return LotsPage(tuple(rows), rows[0].id if more and rows else None,
                        rows[-1].id if rows else None, total)  # fmt: skip
    has_before = after is not None and bool(rows)
    return LotsPage(tuple(rows), rows[0].id if has_before else None,
                    rows[-1].id if more and rows else None, total)  # fmt: skip


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
