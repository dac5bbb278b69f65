"""Recompute a lot from the event graph alone, to audit its materialized state.

The append path stores each lot's provenance as it goes. This module ignores all of that: it
walks back from a lot through the events that created it, recursively, replaying each
ancestor's own events (receipts, partial consumptions, adjustments) up to the moment it was
used, with the registry as it stood then. If the two answers differ, something wrote to the
ledger outside the append path, or the append path has a bug.
"""

from __future__ import annotations

import bisect
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from raretrace.domain.errors import NotFound, VerificationError
from raretrace.domain.model import ACTIVE, IN_TRANSIT, Facility, Lot, Provenance, Tolerance
from raretrace.domain.provenance import at_source, merge_paths, mix, restrict, step_at
from raretrace.domain.registry import Registry, parse_facility, parse_participant
from raretrace.domain.rules import consume, scaled
from raretrace.store import schema
from raretrace.store.store import Store

_PROCESS_STAGE = {"separation", "reduction", "alloying", "magnet", "recycling"}


@dataclass
class _History:
    """Registry records over time and each lot's events, read once per recomputation."""

    conn: Connection
    facilities: dict[str, list[tuple[int, Facility]]] = field(default_factory=dict)
    lot_events: dict[str, list[tuple[int, str, dict[str, Any]]]] = field(default_factory=dict)
    memo: dict[tuple[str, int], Lot] = field(default_factory=dict)

    def load_registry(self) -> None:
        reg = Registry()
        query = (
            select(schema.events.c.seq, schema.events.c.type, schema.events.c.body)
            .where(schema.events.c.type.in_(("participant", "facility")))
            .order_by(schema.events.c.seq)
        )
        for seq, kind, body in self.conn.execute(query):
            record = json.loads(body)[kind]
            if kind == "participant":
                reg.add(parse_participant(record))
            else:
                f = parse_facility(record, reg.participants)
                reg.add(f)
                self.facilities.setdefault(f.id, []).append((seq, f))

    def facility(self, facility_id: str, before: int) -> Facility:
        versions = self.facilities.get(facility_id, [])
        i = bisect.bisect_left([s for s, _ in versions], before)
        if i == 0:
            raise VerificationError(f"facility {facility_id!r} was not registered before #{before}")
        return versions[i - 1][1]

    def events_of(self, lot_id: str) -> list[tuple[int, str, dict[str, Any]]]:
        found = self.lot_events.get(lot_id)
        if found is None:
            le, ev = schema.lot_events, schema.events
            query = (
                select(le.c.seq, le.c.role, ev.c.body)
                .join(ev, ev.c.seq == le.c.seq)
                .where(le.c.lot == lot_id)
                .order_by(le.c.seq)
            )
            found = [(s, role, json.loads(body)) for s, role, body in self.conn.execute(query)]
            self.lot_events[lot_id] = found
        return found


def recompute_lot(store: Store, lot_id: str) -> Lot:
    """The lot's current state and provenance, derived from events only."""
    with store.engine.connect() as conn:
        history = _History(conn)
        history.load_registry()
        return _state(history, lot_id, math.inf, store.tolerance())


def differences(materialized: Lot, recomputed: Lot, *, places: int = 9) -> list[str]:
    """What differs between two states of one lot (empty when they agree)."""
    diffs = []
    for name in ("form", "status", "custodian", "facility", "destination"):
        a, b = getattr(materialized, name), getattr(recomputed, name)
        if a != b:
            diffs.append(f"{name}: stored {a!r}, recomputed {b!r}")
    if not math.isclose(materialized.mass_kg, recomputed.mass_kg, rel_tol=1e-9, abs_tol=1e-9):
        diffs.append(f"mass_kg: stored {materialized.mass_kg!r}, recomputed {recomputed.mass_kg!r}")
    diffs += _share_diffs("by_mine", materialized.provenance, recomputed.provenance, places)
    diffs += _share_diffs("by_country", materialized.provenance, recomputed.provenance, places)
    if materialized.provenance.path != recomputed.provenance.path:
        diffs.append("path differs")
    return diffs


def _share_diffs(name: str, a: Provenance, b: Provenance, places: int) -> list[str]:
    sa, sb = getattr(a, name), getattr(b, name)
    out = []
    for element in sorted(set(sa) | set(sb)):
        x, y = sa.get(element, {}), sb.get(element, {})
        for source in sorted(set(x) | set(y)):
            if round(x.get(source, 0.0) - y.get(source, 0.0), places) != 0:
                stored, again = x.get(source), y.get(source)
                out.append(f"{name}[{element}][{source}]: stored {stored}, recomputed {again}")
    return out


def _state(h: _History, lot_id: str, before: float, tol: Tolerance) -> Lot:
    """The lot as it was just before event number ``before`` (math.inf: now)."""
    key = (lot_id, int(before) if before != math.inf else -1)
    if key in h.memo:
        return h.memo[key]
    events = h.events_of(lot_id)
    if not events or events[0][1] != "created":
        raise NotFound(f"lot {lot_id!r} has no creating event in the ledger")
    seq, _, body = events[0]
    lot = _created(h, lot_id, seq, body, tol)
    for seq, role, body in events[1:]:
        if seq >= before:
            break
        lot = _replay(h, lot, seq, role, body, tol)
    h.memo[key] = lot
    return lot


def _created(h: _History, lot_id: str, seq: int, body: dict[str, Any], tol: Tolerance) -> Lot:
    spec = next(o for o in body["outputs"] if o["lot"] == lot_id)
    facility = h.facility(body["facility"], seq)
    elements = {e: float(kg) for e, kg in spec["elements_kg"].items() if kg > 0}
    if body["type"] == "extract":
        recycled = spec["form"] == "scrap" and "recycling" in facility.stages
        stage = "recycling" if recycled else "mine"
        prov = at_source(facility, elements, recycled=recycled, stage=stage)
    else:
        contributions = []
        for item in body["inputs"]:
            parent = _state(h, item["lot"], seq, tol)
            _, taken, _ = consume(parent, float(item["mass_kg"]), tol)
            contributions.append((taken, parent.provenance))
        process = body["process"]
        stage = process if process in _PROCESS_STAGE else facility.stage
        by_mine, by_country = mix(contributions, elements)
        path = merge_paths((p.path for _, p in contributions), step_at(facility, stage))
        prov = Provenance(restrict(by_mine, elements), restrict(by_country, elements), path)
    return Lot(
        id=lot_id,
        form=spec["form"],
        mass_kg=float(spec["mass_kg"]),
        elements_kg=elements,
        custodian=body["actor"],
        facility=facility.id,
        status=ACTIVE,
        time=body["time"],
        created_seq=seq,
        provenance=prov,
    )


def _replay(
    h: _History, lot: Lot, seq: int, role: str, body: dict[str, Any], tol: Tolerance
) -> Lot:
    if role == "shipped":
        out = lot.copy()
        out.status, out.destination, out.consignee = IN_TRANSIT, body["to"], body["consignee"]
        return out
    if role == "received":
        mass = body.get("mass_kg")
        out = scaled(lot, lot.mass_kg if mass is None else float(mass))
        facility = h.facility(body["facility"], seq)
        out.status, out.facility, out.custodian = ACTIVE, facility.id, body["actor"]
        out.destination = out.consignee = None
        out.provenance = lot.provenance.with_step(step_at(facility))
        return out
    if role == "consumed":
        spec = next(i for i in body["inputs"] if i["lot"] == lot.id)
        after, _, _ = consume(lot, float(spec["mass_kg"]), tol)
        return after
    if role == "adjusted":
        loss = -float(body["mass_kg"])
        if loss >= lot.mass_kg - tol.of(lot.mass_kg):
            out = lot.copy()
            out.mass_kg, out.elements_kg, out.status = 0.0, {}, "written_off"
            return out
        return scaled(lot, lot.mass_kg - loss)
    raise VerificationError(f"lot {lot.id!r}: unknown role {role!r} at event #{seq}")


def lots_touched(store: Store) -> dict[str, int]:
    """Lot ids and how many events touched each (for audits that sample lots)."""
    counts: dict[str, int] = defaultdict(int)
    with store.engine.connect() as conn:
        for (lot,) in conn.execute(select(schema.lot_events.c.lot)):
            counts[lot] += 1
    return dict(counts)
