"""Reading the ledger: what ``trace``, ``lots``, ``facilities`` and ``discrepancies`` show,
for the command line and the HTTP API alike.

The JSON shapes here are the ones both edges print (``lots --json`` and ``GET /v1/lots``
give the same objects), so they are defined once.
"""

from __future__ import annotations

import difflib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from raretrace.domain.errors import NotFound
from raretrace.domain.model import Facility, Lot
from raretrace.domain.registry import Registry
from raretrace.domain.views import lot_view
from raretrace.store import schema
from raretrace.store.rows import lot_from_row
from raretrace.store.store import DiscrepancyRow, Store

#: The fields of ``raretrace lots --json``: those of ``trace --json`` that describe the lot
#: itself (names and rounding are the same; provenance stays with ``trace``).
LOT_FIELDS = (
    "lot", "form", "status", "mass_kg", "elements_kg", "facility", "custodian", "time",
    "in_transit_to", "consignee",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class LotFilter:
    """Which lots to list: each field narrows the list; ``None`` means any."""

    facility: str | None = None
    form: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class LotPage:
    """Lots in id order, at most ``limit`` of them, and how many match in all when the page
    is full (``total`` is None when the page holds every match)."""

    lots: tuple[Lot, ...]
    limit: int | None
    total: int | None

    @property
    def cut(self) -> bool:
        """Whether more lots match than the page shows."""
        return self.total is not None and self.limit is not None and self.total > self.limit


def lot_json(lot: Lot) -> dict[str, Any]:
    """One lot as ``raretrace lots --json`` and ``GET /v1/lots`` give it."""
    view = lot_view(lot)
    return {name: view[name] for name in LOT_FIELDS if name in view}


def facility_json(f: Facility) -> dict[str, Any]:
    """One facility as ``raretrace facilities --json`` and ``GET /v1/facilities`` give it
    (``facility`` is the id, as in a trace)."""
    return {
        "facility": f.id,
        "name": f.name,
        "operator": f.operator,
        "country": f.country,
        "region": f.region,
        "stages": list(f.stages),
        "technology_origin": f.technology_origin,
        "cahra": f.cahra,
        "lat": f.lat,
        "lon": f.lon,
        "capacity_t_per_year": f.capacity_t_per_year,
    }


def check_facility(registry: Registry, facility: str | None) -> None:
    """NotFound naming ``facility`` and the nearest registered ids, unless it is registered
    (or None)."""
    if facility is None:
        return
    known = registry.facilities
    if facility in known:
        return
    by_upper = {f.upper(): f for f in known}
    near = difflib.get_close_matches(facility.upper(), by_upper, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(by_upper[n] for n in near)}? " if near else ""
    raise NotFound(
        f"facility {facility!r} is not in the registry; {hint}list them with `raretrace facilities`"
    )


def lots(store: Store, where: LotFilter = LotFilter(), *, limit: int | None = 100) -> LotPage:
    """Lots matching ``where``, in id order, at most ``limit`` (None or 0: all).

    A facility that is not registered is NotFound with the nearest ids, rather than an empty
    list that looks like an answer.
    """
    check_facility(store.registry(), where.facility)
    found = tuple(
        store.lots(facility=where.facility, form=where.form, status=where.status, limit=limit)
    )
    total = None
    if limit and len(found) == limit:
        total = store.count_lots(facility=where.facility, form=where.form, status=where.status)
    return LotPage(found, limit or None, total)


def facilities(store: Store) -> list[Facility]:
    """Registered facilities in id order."""
    return sorted(store.registry().facilities.values(), key=lambda f: f.id)


def discrepancies(store: Store, *, limit: int | None = None) -> list[DiscrepancyRow]:
    """Receipts that differed from their shipments beyond tolerance, in log order."""
    return store.discrepancies(limit=limit)


def counts(store: Store) -> dict[str, Any]:
    """Totals: events by type, lots by status, discrepancies (the public statistics)."""
    return store.counts()


def trace(store: Store, lot_id: str) -> dict[str, Any]:
    """A lot's state, provenance and the discrepancies in its lineage (``trace --json``, as
    ``raretrace.ledger.service.trace`` gives it)."""
    return trace_of(store, store.lot(lot_id))


def trace_of(store: Store, lot: Lot) -> dict[str, Any]:
    """``trace`` of a lot already read (the service reads it once, to check the caller's
    scope, and traces that same row)."""
    view = lot_view(lot)
    view["discrepancies"] = [d.to_json() for d in store.lineage_discrepancies(lot.id)]
    return view


#: How many bytes of lots' views a process keeps (``trace_bytes``): a view is about 4 kB of
#: JSON (30 kB at most in the 20,000-event demo), so this keeps some 10,000 lots' views.
VIEW_BYTES_KEPT = 48 * 2**20
_LOT_COLUMNS = tuple(schema.lots.c.keys())


class _KeptViews:
    """Lots' views as JSON bytes, kept by their row's content and dropped least recently
    used first past ``budget`` bytes (keys counted too). A lot whose row changed (a shipment,
    a receipt, a new custodian) is a new key, so a kept view is never stale. Thread-safe."""

    def __init__(self, budget: int) -> None:
        self.budget, self.used = budget, 0
        self.views: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        with self.lock:
            found = self.views.get(key)
            if found is not None:
                self.views.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], view: bytes) -> None:
        size = len(view) + sum(len(v) for v in key if isinstance(v, str))
        if size > self.budget:
            return
        with self.lock:
            if key in self.views:
                return
            self.views[key] = view
            self.used += size
            while self.used > self.budget:
                old, dropped = self.views.popitem(last=False)
                self.used -= len(dropped) + sum(len(v) for v in old if isinstance(v, str))


_KEPT = _KeptViews(VIEW_BYTES_KEPT)


def view_bytes(row: Mapping[Any, Any]) -> bytes:
    """``lot_view`` of a lot's stored row (``Store.lot_row``) as JSON bytes (orjson), kept
    per row content (``_KeptViews``): a lot read again as it was is not parsed, checked and
    rounded again."""
    key = tuple(row[name] for name in _LOT_COLUMNS)
    found = _KEPT.get(key)
    if found is None:
        found = orjson.dumps(lot_view(lot_from_row(row)))
        _KEPT.put(key, found)
    return found


def trace_bytes(view: bytes, discrepancies: list[DiscrepancyRow]) -> bytes:
    """``trace --json`` as JSON bytes: the lot's view (``view_bytes``, an object) with its
    lineage's ``discrepancies`` as the last member, as ``trace_of`` builds it."""
    listed = orjson.dumps([d.to_json() for d in discrepancies])
    return b"".join((view[:-1], b',"discrepancies":', listed, b"}"))
