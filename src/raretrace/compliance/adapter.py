"""The one adapter from the ledger to the packs: ``lot_evidence`` reads a stored lot and walks
its lineage (``lot_events`` and event bodies, as ``ledger.recompute`` does) into a
``LotEvidence``: routes per element, the lineage's shipments, the events at each facility,
extractions, and the residues its transforms made.

The walk follows each input of a transform only up to that transform (what happened to the
rest of an input lot later is not this lot's history).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import bindparam, select

from raretrace.compliance.evidence import (
    Extraction,
    LotEvidence,
    Residue,
    Route,
    Shipment,
    SiteEvent,
    Step,
)
from raretrace.domain import jsontext
from raretrace.domain.errors import ConfigError
from raretrace.domain.model import Lot, normalize_time
from raretrace.domain.registry import Registry
from raretrace.ledger.recompute import StoredHistory
from raretrace.store import schema
from raretrace.store.store import Store

__all__ = ["lot_evidence", "lot_routes"]

_RESIDUE = "residue"
#: The events of many lots in one statement (the lineage prefetch, one per generation).
_EVENTS_OF_LOTS = (
    select(schema.lot_events.c.lot, schema.lot_events.c.seq, schema.lot_events.c.role,
           schema.events.c.body)
    .join(schema.events, schema.events.c.seq == schema.lot_events.c.seq)
    .where(schema.lot_events.c.lot.in_(bindparam("lots", expanding=True)))
    .order_by(schema.lot_events.c.seq)
)  # fmt: skip
_CHUNK = 900  # SQLite's bound-parameter limit is 999 on old builds


def lot_evidence(store: Store, lot_id: str, registry: Registry) -> LotEvidence:
    """The evidence the packs read about stored lot ``lot_id``."""
    lot = store.lot(lot_id)
    with store.engine.connect() as conn:
        history = StoredHistory(conn)
        _prefetch(history, lot_id)
        walk = _Walk(history, registry)
        walk.lot(lot_id, None)
        residues = tuple(walk.residue(r) for r in walk.residues)
    facility = registry.facility(lot.facility)
    return LotEvidence(
        lot=lot.id,
        form=lot.form,
        mass_kg=lot.mass_kg,
        elements_kg=dict(lot.elements_kg),
        custodian=lot.custodian,
        facility=lot.facility,
        facility_country=facility.country,
        routes=lot_routes(lot),
        by_mine={e: dict(s) for e, s in lot.provenance.by_mine.items()},
        path_facilities=tuple(dict.fromkeys(s.facility for s in lot.provenance.path)),
        shipments=tuple(walk.shipments.values()),
        site_events=tuple(sorted(walk.sites.values(), key=lambda e: (e.time, e.event))),
        extractions=tuple(walk.extractions.values()),
        residues=residues,
    )


def _prefetch(history: StoredHistory, lot_id: str) -> None:
    """Load the events of the lot's whole ancestry into ``history``, one statement per
    generation instead of one per lot (the walk then reads only the cache): each lot's
    creating transform names the next generation, and the residues it made are read with it.
    """
    frontier = [lot_id]
    while frontier:
        found: dict[str, list[tuple[int, str, Any]]] = {lot: [] for lot in frontier}
        for i in range(0, len(frontier), _CHUNK):
            rows = history.conn.execute(_EVENTS_OF_LOTS, {"lots": frontier[i : i + _CHUNK]})
            for lot, seq, role, body in rows:
                found[lot].append((seq, role, jsontext.loads(body)))
        history.lot_events.update(found)
        upstream = {}
        for events in found.values():
            for _, role, body in events:
                if role == "created" and body["type"] == "transform":
                    upstream.update(dict.fromkeys(item["lot"] for item in body["inputs"]))
                    upstream.update(dict.fromkeys(
                        o["lot"] for o in body["outputs"] if o["form"] == _RESIDUE
                    ))  # fmt: skip
        frontier = [lot for lot in upstream if lot not in history.lot_events]


def lot_routes(lot: Lot) -> dict[str, tuple[Route, ...]]:
    """The lot's routes per element (issue 9 §1), as the packs' plain values."""
    stored: Mapping[str, Any] = getattr(lot.provenance, "routes", None) or {}
    missing = [e for e in lot.provenance.by_mine if e not in stored]
    if missing:
        raise ConfigError(
            f"lot {lot.id!r} has no route provenance for {', '.join(missing)}; run"
            " `raretrace init` to upgrade the ledger (it recomputes routes)"
        )
    return {
        element: tuple(
            Route(r.share, tuple(Step(s.stage, s.country, s.technology_origin) for s in r.steps))
            for r in routes
        )
        for element, routes in stored.items()
    }


@dataclass
class _Walk:
    history: StoredHistory
    registry: Registry
    #: lot id -> the latest sequence number its events were read up to (None: all).
    seen: dict[str, int | None] = field(default_factory=dict)
    elements: dict[str, frozenset[str]] = field(default_factory=dict)
    shipments: dict[str, Shipment] = field(default_factory=dict)
    sites: dict[str, SiteEvent] = field(default_factory=dict)
    extractions: dict[str, Extraction] = field(default_factory=dict)
    residues: dict[str, tuple[str, Mapping[str, Any]]] = field(default_factory=dict)

    def lot(self, lot_id: str, before: int | None) -> None:
        """Read ``lot_id``'s events before sequence number ``before`` (None: all), and its
        inputs' events before the transform that made it, recursively."""
        done = self.seen.get(lot_id, -1)
        if lot_id in self.seen and (done is None or (before is not None and done >= before)):
            return
        self.seen[lot_id] = before
        for seq, role, body in self.history.events_of(lot_id):
            if before is not None and seq >= before:
                break
            self._event(lot_id, seq, role, body)

    def _event(self, lot_id: str, seq: int, role: str, body: Mapping[str, Any]) -> None:
        time = normalize_time(body["time"], f"event {body['id']!r}")
        if role == "created":
            spec = next(o for o in body["outputs"] if o["lot"] == lot_id)
            self.elements[lot_id] = frozenset(e for e, kg in spec["elements_kg"].items() if kg > 0)
            self._site(body, time, body["facility"])
            if body["type"] == "extract":
                self._extraction(body, time)
            else:
                self._transform(body, seq)
        elif role == "shipped":
            self._site(body, time, body["from"])
            self.shipments[body["id"]] = self._shipment(lot_id, body, time)
        elif role == "received":
            self._site(body, time, body["facility"])
            self._received(lot_id, time)

    def _site(self, body: Mapping[str, Any], time: str, facility: str) -> None:
        self.sites.setdefault(body["id"], SiteEvent(body["id"], body["type"], time, facility))

    def _extraction(self, body: Mapping[str, Any], time: str) -> None:
        facility = self.registry.facility(body["facility"])
        self.extractions[body["id"]] = Extraction(
            body["id"], time, facility.id, facility.country, facility.cahra
        )

    def _transform(self, body: Mapping[str, Any], seq: int) -> None:
        for item in body["inputs"]:
            self.lot(item["lot"], seq)
        for output in body["outputs"]:
            if output["form"] == _RESIDUE:
                self.residues.setdefault(output["lot"], (body["id"], output))

    def _shipment(self, lot_id: str, body: Mapping[str, Any], time: str) -> Shipment:
        origin = self.registry.facility(body["from"])
        destination = self.registry.facility(body["to"])
        return Shipment(
            event=body["id"], time=time, shipper=body["actor"], lot=lot_id,
            origin=origin.id, origin_country=origin.country, destination=destination.id,
            destination_country=destination.country,
            elements=self.elements.get(lot_id, frozenset()),
        )  # fmt: skip

    def _received(self, lot_id: str, time: str) -> None:
        for event, s in reversed(self.shipments.items()):
            if s.lot == lot_id and s.received is None:
                self.shipments[event] = replace(s, received=time)
                return

    def residue(self, lot_id: str) -> Residue:
        """A residue made in the lineage, with every shipment of it (not only earlier ones)."""
        event, spec = self.residues[lot_id]
        own = _Walk(self.history, self.registry)
        own.elements[lot_id] = frozenset(spec["elements_kg"])
        for seq, role, body in self.history.events_of(lot_id):
            if role in ("shipped", "received"):
                own._event(lot_id, seq, role, body)
        kg = spec["elements_kg"]
        return Residue(
            lot_id, event, float(spec["mass_kg"]), float(kg.get("Th", 0.0)),
            float(kg.get("U", 0.0)), tuple(own.shipments.values()),
        )  # fmt: skip
