"""Re-deriving a lot from its event graph alone, for audits and offline verification.

The append path materializes each lot's state and provenance as events arrive. This module
ignores all of that: it walks back from a lot through the events that created it,
recursively, replaying each ancestor's own events (receipts, partial consumptions,
adjustments) up to the moment it was used, with the registry as it stood then. The walk
reads events through an ``EventSource``: the database for ``raretrace audit``, a bundle's
contents for ``raretrace verify``. If the answer differs from the stored one, something
wrote outside the append path, or the append path has a bug.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from typing import Any, Protocol

from raretrace.domain.claims import claimed_provenance
from raretrace.domain.elements import ELEMENT_ORDER
from raretrace.domain.errors import NotFound, VerificationError
from raretrace.domain.model import (
    ACTIVE,
    IN_TRANSIT,
    Facility,
    Lot,
    Provenance,
    Tolerance,
    normalize_time,
)
from raretrace.domain.provenance import arrived, at_source, restricted, transformed
from raretrace.domain.rules import consume, scaled


class EventSource(Protocol):
    """Where the walk reads events and registry records from."""

    def events_of(self, lot_id: str) -> list[tuple[int, str, Mapping[str, Any]]]:
        """(sequence number, role, event body) of every event touching the lot, in order."""
        ...

    def facility(self, facility_id: str, before: int) -> Facility:
        """The facility's record as registered before event number ``before``."""
        ...


def lot_roles(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(lot id, role) for each lot an event touches: created, consumed, shipped, received,
    adjusted, claimed (the same links the append path stores in ``lot_events``)."""
    kind = event.get("type")
    if kind == "extract":
        return [(o["lot"], "created") for o in event["outputs"]]
    if kind == "transform":
        return [(i["lot"], "consumed") for i in event["inputs"]] + [
            (o["lot"], "created") for o in event["outputs"]
        ]
    roles = {"ship": "shipped", "receive": "received", "adjust": "adjusted", "claim": "claimed"}
    role = roles.get(str(kind))
    return [(event["lot"], role)] if role else []


def recompute_lot(source: EventSource, lot_id: str, tolerance: Tolerance) -> Lot:
    """The lot's current state and provenance, derived from events only."""
    return Recomputation(source, tolerance).lot(lot_id)


class Recomputation:
    """One walk's memo over an event source: every lot's states derived once.

    A verification asks for many states of the same lots: each transform's inputs just
    before it, each receipt's lot just before it, the bundle's lot now. A lot's state just
    before event *s* is the same whoever asks, so each lot's events are read once and each
    of its states (after its creation, after each later event) is computed once, in order,
    and kept. The walk is then linear in the lineage's events, where a fresh walk per
    question replays a lineage that feeds many transforms again for each of them.
    Results are shared between callers: treat them as read-only.
    """

    def __init__(self, source: EventSource, tolerance: Tolerance) -> None:
        self._source, self.tolerance = source, tolerance
        self._rows: dict[str, list[tuple[int, str, Mapping[str, Any]]]] = {}
        self._seqs: dict[str, list[int]] = {}
        #: ``_states[lot][i]``: the lot just after its event ``_rows[lot][i]``.
        self._states: dict[str, list[Lot]] = {}

    def lot(self, lot_id: str) -> Lot:
        """The lot's current state (after all its events in the source)."""
        return self.before(lot_id, math.inf)

    def before(self, lot_id: str, seq: float) -> Lot:
        """The lot as it was just before event number ``seq`` (``math.inf``: now)."""
        rows = self._rows_of(lot_id)
        n = bisect.bisect_left(self._seqs[lot_id], seq)
        if n == 0:
            raise NotFound(f"lot {lot_id!r} has no creating event in the ledger")
        states = self._states.setdefault(lot_id, [])
        while len(states) < n:
            at, role, body = rows[len(states)]
            if states:
                states.append(_replay(self._source, states[-1], at, role, body, self.tolerance))
            else:
                states.append(self._created(lot_id, at, body))
        return states[n - 1]

    def _rows_of(self, lot_id: str) -> list[tuple[int, str, Mapping[str, Any]]]:
        rows = self._rows.get(lot_id)
        if rows is None:
            rows = self._source.events_of(lot_id)
            if not rows or rows[0][1] != "created":
                raise NotFound(f"lot {lot_id!r} has no creating event in the ledger")
            self._rows[lot_id], self._seqs[lot_id] = rows, [r[0] for r in rows]
        return rows

    def _created(self, lot_id: str, seq: int, body: Mapping[str, Any]) -> Lot:
        spec = next(o for o in body["outputs"] if o["lot"] == lot_id)
        facility = self._source.facility(body["facility"], seq)
        elements = {e: float(kg) for e, kg in spec["elements_kg"].items() if kg > 0}
        if body["type"] == "extract":
            recycled = spec["form"] == "scrap" and "recycling" in facility.stages
            stage = "recycling" if recycled else "mine"
            prov = at_source(facility, elements, recycled=recycled, stage=stage)
        else:
            contributions = []
            for item in body["inputs"]:
                parent = self.before(item["lot"], seq)
                _, taken, _ = consume(parent, float(item["mass_kg"]), self.tolerance)
                contributions.append((taken, parent.provenance))
            whole = transformed(contributions, _wanted(body), facility, body["process"])
            prov = restricted(whole, elements)
        return Lot(
            id=lot_id,
            form=spec["form"],
            mass_kg=float(spec["mass_kg"]),
            elements_kg=elements,
            custodian=body["actor"],
            facility=facility.id,
            status=ACTIVE,
            time=normalize_time(body["time"], f"event #{seq}"),
            created_seq=seq,
            provenance=prov,
        )


def differences(materialized: Lot, recomputed: Lot, *, places: int = 9) -> list[str]:
    """What differs between two states of one lot (empty when they agree)."""
    diffs = []
    for name in ("form", "status", "custodian", "facility", "destination", "time"):
        a, b = getattr(materialized, name), getattr(recomputed, name)
        if a != b:
            diffs.append(f"{name}: stored {a!r}, recomputed {b!r}")
    if not math.isclose(materialized.mass_kg, recomputed.mass_kg, rel_tol=1e-9, abs_tol=1e-9):
        diffs.append(f"mass_kg: stored {materialized.mass_kg!r}, recomputed {recomputed.mass_kg!r}")
    diffs += _share_diffs("by_mine", materialized.provenance, recomputed.provenance, places)
    diffs += _share_diffs("by_country", materialized.provenance, recomputed.provenance, places)
    if materialized.provenance.path != recomputed.provenance.path:
        diffs.append("path differs")
    diffs += _route_diffs(materialized.provenance, recomputed.provenance, places)
    diffs += _share_diffs("claimed", materialized.provenance, recomputed.provenance, places)
    if materialized.provenance.claims != recomputed.provenance.claims:
        stored, again = materialized.provenance.claims, recomputed.provenance.claims
        diffs.append(f"claims: stored {stored}, recomputed {again}")
    return diffs


def _route_diffs(a: Provenance, b: Provenance, places: int) -> list[str]:
    out = []
    for element in sorted(set(a.routes) | set(b.routes)):
        x = {r.steps: r.share for r in a.routes.get(element, ())}
        y = {r.steps: r.share for r in b.routes.get(element, ())}
        if len(x) != len(a.routes.get(element, ())):
            out.append(f"routes[{element}]: a route is stored twice")
        for steps in sorted(set(x) | set(y)):
            if round(x.get(steps, 0.0) - y.get(steps, 0.0), places) != 0:
                name = " > ".join(f"{s.stage} {s.country}/{s.technology_origin}" for s in steps)
                out.append(
                    f"routes[{element}][{name}]: stored {x.get(steps)}, recomputed {y.get(steps)}"
                )
    return out


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


def _wanted(body: Mapping[str, Any]) -> list[str]:
    """The elements a transform's outputs hold, in the order the rules mix them."""
    held = {e for o in body["outputs"] for e, kg in o["elements_kg"].items() if kg > 0}
    return sorted(held, key=ELEMENT_ORDER.__getitem__)


def _replay(
    h: EventSource, lot: Lot, seq: int, role: str, body: Mapping[str, Any], tol: Tolerance
) -> Lot:
    after = _replay_role(h, lot, seq, role, body, tol)
    after.time = normalize_time(body["time"], f"event #{seq}")
    return after


def _replay_role(
    h: EventSource, lot: Lot, seq: int, role: str, body: Mapping[str, Any], tol: Tolerance
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
        out.provenance = arrived(lot.provenance, facility)
        return out
    if role == "consumed":
        spec = next(i for i in body["inputs"] if i["lot"] == lot.id)
        after, _, _ = consume(lot, float(spec["mass_kg"]), tol)
        return after
    if role == "claimed":
        out = lot.copy()
        out.provenance = claimed_provenance(
            lot, scheme=body["scheme"], share=float(body["share"]), claim_id=body["id"]
        )
        return out
    if role == "adjusted":
        loss = -float(body["mass_kg"])
        if loss >= lot.mass_kg - tol.of(lot.mass_kg):
            out = lot.copy()
            out.mass_kg, out.elements_kg, out.status = 0.0, {}, "written_off"
            return out
        return scaled(lot, lot.mass_kg - loss)
    raise VerificationError(f"lot {lot.id!r}: unknown role {role!r} at event #{seq}")
