"""The analytics' one door to the store: read-only queries that hand the pure modules plain
values (the registry, the tolerance, the accepted events in log order, discrepancies).

Nothing here writes; the commands open the ledger with ``access="read"``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, func, select

from raretrace.domain.model import Tolerance
from raretrace.domain.registry import Registry
from raretrace.ledger.settings import LedgerSettings
from raretrace.store import schema
from raretrace.store.store import DiscrepancyRow, Store

__all__ = ["FLOW_TYPES", "OUTPUT_TYPES", "LedgerView", "events", "events_after", "ledger_view"]

#: Event types that move material (what the flow pass follows).
FLOW_TYPES = ("extract", "transform", "ship", "receive", "adjust")
#: Event types whose outputs are a stage's output (what concentration counts).
OUTPUT_TYPES = ("extract", "transform")
_CHUNK = 20_000


@dataclass(frozen=True, slots=True)
class LedgerView:
    """What every analysis needs besides the events: the registry now, the tolerance the
    ledger was created with, and the time span of its material events."""

    registry: Registry
    tolerance: Tolerance
    first_time: str | None
    last_time: str | None


def ledger_view(store: Store, conn: Connection | None = None, *, span: bool = True) -> LedgerView:
    """The registry, tolerance and (with ``span``: it reads every event's time) time span of
    ``store``, through ``conn`` where given (to see them in that transaction's snapshot)."""
    if conn is None:
        with store.engine.connect() as c:
            return ledger_view(store, c, span=span)
    settings = LedgerSettings.from_meta(store.meta(conn))
    first = last = None
    if span:
        e = schema.events
        query = select(func.min(e.c.time), func.max(e.c.time)).where(e.c.type.in_(FLOW_TYPES))
        first, last = conn.execute(query).one()
    return LedgerView(store.registry(conn), settings.tolerance, first, last)


def events(
    store: Store,
    types: Sequence[str],
    *,
    since: str | None = None,
    until: str | None = None,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(stored time, parsed body) of accepted events of ``types`` in log order, with
    ``since <= time < until`` where given; streamed in chunks so memory stays flat."""
    e = schema.events
    query = select(e.c.time, e.c.body).where(e.c.type.in_(list(types))).order_by(e.c.seq)
    if since is not None:
        query = query.where(e.c.time >= since)
    if until is not None:
        query = query.where(e.c.time < until)
    loads = orjson.loads
    with store.engine.connect() as conn:
        result = conn.execution_options(yield_per=_CHUNK).execute(query)
        for rows in result.partitions():
            for time, body in rows:
                yield time, loads(body)


def events_after(
    conn: Connection, types: Sequence[str], *, after: int, upto: int
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(stored time, parsed body) of accepted events of ``types`` from log size ``after`` to
    size ``upto`` (``after <= seq < upto``: sequence numbers start at 0), in log order, read
    through ``conn`` (the fold reads in one snapshot)."""
    e = schema.events
    query = (
        select(e.c.time, e.c.body)
        .where(e.c.seq >= after, e.c.seq < upto, e.c.type.in_(list(types)))
        .order_by(e.c.seq)
    )
    loads = orjson.loads
    result = conn.execution_options(yield_per=_CHUNK).execute(query)
    for rows in result.partitions():
        for time, body in rows:
            yield time, loads(body)


def discrepancies(store: Store) -> list[DiscrepancyRow]:
    """Every receipt that differed from its shipment beyond tolerance, in log order."""
    return store.discrepancies()
