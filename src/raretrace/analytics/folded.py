"""The aggregate cache read back for periods: the same sums the flow pass keeps
(``engine.FlowSums``) and the stage outputs (``concentration.StageOutputs``), added up from
the per-day and per-month rows of ``store/aggregates.py`` for labelled ranges of days.

``cached`` folds the new events first (``fold.py``), then reads every table it needs in one
snapshot, so the answer describes one prefix of the log. When the database cannot be
written (a read-only file or role) it answers None and the service recomputes from the
events instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from raretrace.analytics import fold
from raretrace.analytics.concentration import StageOutputs
from raretrace.analytics.engine import Node, RouteStats
from raretrace.domain.errors import ConfigError
from raretrace.domain.model import Facility
from raretrace.store import aggregates
from raretrace.store.aggregates import FoldState
from raretrace.store.engine import open_engine
from raretrace.store.store import Store

__all__ = ["AUTO_FILL", "PeriodSums", "Ranges", "cached", "read_outputs", "read_sums"]

#: label → the days ``first <= day < end`` it covers (None: unbounded).
Ranges = Mapping[str, tuple[date | None, date | None]]
Elements = dict[str, float]
T = TypeVar("T")
#: How often a command folds and reads again when a concurrent rebuild emptied the cache
#: between its fold and its read, before it recomputes from the events instead.
_ATTEMPTS = 3
#: An empty cache is filled by the first run on a ledger of at least this many events (or by
#: ``raretrace analytics cache``). Below it the recomputation takes about 1.5 s of CPU or less
#: while a fill writes some rows per event and day (≈ 2.6 s CPU for the 20,000-event demo,
#: whose events span a year), so a small ledger is answered from its events as before.
AUTO_FILL = 100_000


@dataclass(slots=True)
class PeriodSums:
    """``FlowSums`` added up from the cache: node and link sums per label, receipts per
    route, holdings and shipped mass; ``transit_end`` the kg in transit at the end of the
    last range (every range together must cover all days before it)."""

    nodes: dict[tuple[str, str, Node], Elements] = field(default_factory=dict)
    links: dict[tuple[str, str, Node, Node], Elements] = field(default_factory=dict)
    routes: dict[tuple[str, str, str], RouteStats] = field(default_factory=dict)
    held: dict[tuple[str, str, str], Elements] = field(default_factory=dict)
    shipped_mass: dict[tuple[str, str], float] = field(default_factory=dict)
    unresolved: int = 0

    def in_transit_kg(self) -> Elements:
        """Shipped minus arrived (received less the receipt's difference, which is the kg
        that was shipped) over every range: what was in transit at the end."""
        total: Elements = {}
        for (_, measure, _), els in self.nodes.items():
            sign = {"shipped": 1.0, "received": -1.0, "transit": 1.0, "discrepant": 1.0}.get(
                measure
            )
            if sign is not None:
                for e, kg in els.items():
                    total[e] = total.get(e, 0.0) + sign * kg
        return total


def _add(target: dict[tuple[str, ...], Elements], key: tuple[str, ...], e: str, kg: float) -> None:
    els = target.get(key)
    if els is None:
        els = target[key] = {}
    els[e] = els.get(e, 0.0) + kg


def read_sums(
    conn: Connection,
    state: FoldState,
    nodes: Ranges,
    *,
    links: Ranges | None = None,
    warnings: bool = False,
    element: str | None = None,
) -> PeriodSums:
    """Node sums for ``nodes``, link sums for ``links``, and with ``warnings`` the routes,
    holdings and shipped mass for the ``nodes`` ranges; only ``element`` where given."""
    out = PeriodSums(unresolved=state.unresolved)
    rows = aggregates.sums(conn, "analytics_nodes", nodes, element=element)
    for label, (measure, stage, country, facility, e, kg) in rows:
        _add(out.nodes, (label, measure, (stage, country, facility)), e, kg)  # type: ignore[arg-type]
    for label, (kind, *ends, e, kg) in aggregates.sums(
        conn, "analytics_links", links or {}, element=element
    ):
        key = (label, kind, (ends[0], ends[1], ends[2]), (ends[3], ends[4], ends[5]))
        _add(out.links, key, e, kg)  # type: ignore[arg-type]
    if warnings:
        _read_warnings(conn, out, nodes)
    return out


def _read_warnings(conn: Connection, out: PeriodSums, ranges: Ranges) -> None:
    for label, (origin, dest, *v) in aggregates.sums(conn, "analytics_routes", ranges):
        stats = out.routes.get((label, origin, dest))
        if stats is None:
            stats = out.routes[(label, origin, dest)] = RouteStats()
        stats.receipts += int(v[0])
        stats.discrepant += int(v[1])
        stats.shipped_kg += v[2]
        stats.received_kg += v[3]
        stats.discrepant_kg += v[4]
    for label, (facility, form, e, kg) in aggregates.sums(conn, "analytics_held", ranges):
        _add(out.held, (label, facility, form), e, kg)  # type: ignore[arg-type]
    for label, (facility, kg) in aggregates.sums(conn, "analytics_shipped", ranges):
        key = (label, facility)
        out.shipped_mass[key] = out.shipped_mass.get(key, 0.0) + kg


def read_outputs(
    conn: Connection, facilities: Mapping[str, Facility], ranges: Ranges
) -> StageOutputs:
    """Stage outputs per label of ``ranges`` (a ``StageOutputs`` whose ``kg`` is filled)."""
    outputs = StageOutputs(facilities, lambda _time: None)
    kg = outputs.kg
    for label, (e, stage, country, amount) in aggregates.sums(conn, "analytics_outputs", ranges):
        key = (label, e, stage, country)
        kg[key] = kg.get(key, 0.0) + amount
    return outputs


def cached(store: Store, read: Callable[[Connection, FoldState], T]) -> T | None:
    """Fold the new events into the cache, then ``read(conn, state)`` in one snapshot that
    covers at least every event the fold saw; None when the cache cannot be written, or is
    empty and the ledger smaller than ``AUTO_FILL``."""
    with store.engine.connect() as conn:
        state = aggregates.read_state(conn)
        if (state is None or state.size == 0) and store.size(conn) < AUTO_FILL:
            return None
    try:
        writer = open_engine(store.url, access="write")
    except ConfigError:
        return None
    try:
        for _ in range(_ATTEMPTS):
            done = fold.fold_into(store, writer)
            with store.engine.connect() as conn, conn.begin():
                state = aggregates.read_state(conn)
                if state is not None and state.size >= done.size:
                    return read(conn, state)
        return None
    except DBAPIError:
        # The database refuses the writes (read-only file or role, locked past the busy
        # timeout): the events are still there to recompute from.
        return None
    finally:
        writer.dispose()
