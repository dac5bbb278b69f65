"""Reading the ledger: what ``trace``, ``lots``, ``facilities`` and ``discrepancies`` show,
for the command line and the HTTP API alike.

The JSON shapes here are the ones both edges print (``lots --json`` and ``GET /v1/lots``
give the same objects), so they are defined once.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from raretrace.domain.errors import NotFound
from raretrace.domain.model import Facility, Lot
from raretrace.domain.registry import Registry
from raretrace.domain.views import lot_view
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
