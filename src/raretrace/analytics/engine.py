"""One pass over the ledger's events in log order that follows every lot's material and adds
it up: kg per element entering, produced, consumed, received, shipped, lost and in stock, per
node (stage, country, facility) and per link between nodes, in time buckets.

Pure: the events come in as parsed JSON (what ``raretrace ingest`` accepted), the facilities
and the tolerance as plain values. The arithmetic follows ``domain/rules.py``: a lot's
composition scales with its mass, taking the whole remaining mass within tolerance empties
it (``rules.consume``), and a receipt beyond tolerance is a discrepancy.

Only conserved elements (the REEs, Th and U) are followed; ``other`` is not conserved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from raretrace.domain.elements import CONSERVED
from raretrace.domain.model import Facility, Tolerance
from raretrace.domain.provenance import transform_stage

__all__ = [
    "MEASURES",
    "FlowEngine",
    "FlowSums",
    "LotFlow",
    "Node",
    "RouteStats",
]

#: A place material sits: (stage, country, facility id).
Node = tuple[str, str, str]
Elements = dict[str, float]
#: What the engine adds up per node. ``lost`` is process losses (a transform's inputs minus
#: its outputs, declared losses and the imbalance within tolerance alike); ``adjusted`` the
#: losses and write-offs of ``adjust`` events; ``transit`` receipts minus shipments within
#: tolerance; ``discrepant`` receipts minus shipments beyond tolerance (signed: negative is
#: material that did not arrive).
MEASURES = (
    "entered", "produced", "consumed", "received", "shipped", "lost", "adjusted", "transit",
    "discrepant",
)  # fmt: skip
RECYCLING = "recycling"


@dataclass(slots=True)
class LotFlow:
    """What the pass knows of one lot: where it is, its mass, its element kg at ``base_mass``
    and its form."""

    node: Node
    mass: float
    base_mass: float  # the mass ``elements`` belong to: the composition scales with mass
    elements: Elements
    form: str
    #: While in transit: (destination node, shipped mass, shipper, consignee).
    pending: tuple[Node, float, str, str] | None = None

    def at(self, mass: float) -> Elements:
        f = mass / self.base_mass if self.base_mass > 0 else 0.0
        return {e: kg * f for e, kg in self.elements.items()}


@dataclass(slots=True)
class RouteStats:
    """Receipts on one route (from facility → to facility) in one bucket."""

    receipts: int = 0
    discrepant: int = 0
    shipped_kg: float = 0.0
    received_kg: float = 0.0
    #: Received minus shipped over the discrepant receipts (negative: did not arrive).
    discrepant_kg: float = 0.0


def _add(
    target: dict[Any, Elements], key: Any, elements: Mapping[str, float], sign: float = 1.0
) -> None:
    acc = target.get(key)
    if acc is None:
        acc = target[key] = {}
    for e, kg in elements.items():
        acc[e] = acc.get(e, 0.0) + sign * kg


def _conserved(elements_kg: Mapping[str, float]) -> Elements:
    return {e: float(kg) for e, kg in elements_kg.items() if e in CONSERVED and kg}


class FlowEngine:
    """Feed events in log order (``feed``), then read ``nodes``, ``links``, ``routes``.

    ``bucket_of(time)`` names the bucket an event's stored time falls in (labels sort in time
    order), or None to follow the event's effect on lots without counting it. With
    ``participants`` the engine also keeps, per key, the distinct actors behind it (for the
    open data's suppression): per node measure the events' actors, per link the senders and
    the receivers.
    """

    def __init__(
        self,
        facilities: Mapping[str, Facility],
        tolerance: Tolerance,
        bucket_of: Callable[[str], str | None],
        *,
        participants: bool = False,
        holdings: bool = False,
    ) -> None:
        self.facilities = facilities
        self.holding = holdings
        self.tol = tolerance
        self.bucket_of = bucket_of
        self.track = participants
        #: (bucket, measure, node) → element → kg
        self.nodes: dict[tuple[str, str, Node], Elements] = {}
        #: (bucket, kind, from node, to node) → element → kg; kind ``ship`` or ``transform``
        self.links: dict[tuple[str, str, Node, Node], Elements] = {}
        #: (bucket, from facility, to facility) → receipts on that route
        self.routes: dict[tuple[str, str, str], RouteStats] = {}
        self.node_actors: dict[tuple[str, str, Node], set[str]] = {}
        self.link_actors: dict[tuple[str, str, Node, Node], tuple[set[str], set[str]]] = {}
        #: With ``holdings``: (bucket, facility, form) → element → net kg added to what the
        #: facility holds in that form; (bucket, facility) → gross kg shipped from it.
        self.held: dict[tuple[str, str, str], Elements] = {}
        self.shipped_mass: dict[tuple[str, str], float] = {}
        #: Events that named a lot or facility the pass did not know (events outside the
        #: period that the query left out, in a ledger whose times are not in log order).
        self.unresolved = 0
        #: Every lot active or in transit; a fold (``fold.py``) loads the lots its events
        #: need before feeding them and stores what is left.
        self.lots: dict[str, LotFlow] = {}
        self._handlers: dict[str, Callable[[str | None, Mapping[str, Any]], None]] = {
            "extract": self._extract,
            "transform": self._transform,
            "ship": self._ship,
            "receive": self._receive,
            "adjust": self._adjust,
        }

    # -- feeding ------------------------------------------------------------------------------
    def feed(self, time: str, event: Mapping[str, Any]) -> None:
        """Apply one accepted event (its parsed JSON) whose stored time is ``time``."""
        handler = self._handlers.get(event["type"])
        if handler is None:
            return
        try:
            handler(self.bucket_of(time), event)
        except KeyError:
            self.unresolved += 1

    def _node(
        self, bucket: str | None, measure: str, node: Node, els: Elements, actor: str
    ) -> None:
        if bucket is None:
            return
        key = (bucket, measure, node)
        _add(self.nodes, key, els)
        if self.track:
            self.node_actors.setdefault(key, set()).add(actor)

    def _link(
        self, bucket: str | None, kind: str, ends: tuple[Node, Node], els: Elements,
        actors: tuple[str, str],
    ) -> None:  # fmt: skip
        if bucket is None:
            return
        key = (bucket, kind, ends[0], ends[1])
        _add(self.links, key, els)
        if self.track:
            senders, receivers = self.link_actors.setdefault(key, (set(), set()))
            senders.add(actors[0])
            receivers.add(actors[1])

    def _extract(self, bucket: str | None, ev: Mapping[str, Any]) -> None:
        facility = self.facilities[ev["facility"]]
        actor = ev["actor"]
        for out in ev["outputs"]:
            scrap = out["form"] == "scrap" and RECYCLING in facility.stages
            node = ("recycling" if scrap else "mine", facility.country, facility.id)
            els = _conserved(out["elements_kg"])
            mass = float(out["mass_kg"])
            self.lots[out["lot"]] = LotFlow(node, mass, mass, els, out["form"])
            self._node(bucket, "entered", node, els, actor)
            self._hold(bucket, facility.id, out["form"], els, 1.0)

    def _take(self, lot_id: str, mass: float) -> tuple[LotFlow, Elements, float]:
        """Take ``mass`` from a lot as ``rules.consume`` does: (lot, element kg, kg taken)."""
        lot = self.lots[lot_id]
        remaining = lot.mass
        if mass >= remaining - self.tol.of(remaining):
            del self.lots[lot_id]
            return lot, lot.at(remaining), remaining
        taken = lot.at(mass)
        lot.mass = remaining - mass
        return lot, taken, mass

    def _transform(self, bucket: str | None, ev: Mapping[str, Any]) -> None:
        facility = self.facilities[ev["facility"]]
        actor = ev["actor"]
        taken: list[tuple[Node, Elements, float]] = []
        for spec in ev["inputs"]:
            lot, els, kg = self._take(spec["lot"], float(spec["mass_kg"]))
            taken.append((lot.node, els, kg))
            self._node(bucket, "consumed", lot.node, els, actor)
            self._hold(bucket, facility.id, lot.form, els, -1.0)
        stage = transform_stage(facility, ev["process"])
        if stage is None:  # split, merge: bookkeeping; the material stays where it was
            onode = max(taken, key=lambda t: t[2])[0]
        else:
            onode = (stage, facility.country, facility.id)
        produced: Elements = {}
        for out in ev["outputs"]:
            els = _conserved(out["elements_kg"])
            mass = float(out["mass_kg"])
            self.lots[out["lot"]] = LotFlow(onode, mass, mass, els, out["form"])
            _merge(produced, els)
            self._hold(bucket, facility.id, out["form"], els, 1.0)
        self._node(bucket, "produced", onode, produced, actor)
        consumed: Elements = {}
        for _, els, _ in taken:
            _merge(consumed, els)
        lost = {
            e: consumed.get(e, 0.0) - produced.get(e, 0.0)
            for e in consumed.keys() | produced.keys()
        }
        self._node(bucket, "lost", onode, lost, actor)
        for node, els, _ in taken:
            share = {
                e: kg * produced.get(e, 0.0) / consumed[e]
                for e, kg in els.items()
                if consumed[e] > 0
            }
            self._link(bucket, "transform", (node, onode), share, (actor, actor))

    def _ship(self, bucket: str | None, ev: Mapping[str, Any]) -> None:
        lot = self.lots[ev["lot"]]
        to = self.facilities[ev["to"]]
        dest = (to.stage, to.country, to.id)
        els = lot.at(lot.mass)
        self._node(bucket, "shipped", lot.node, els, ev["actor"])
        self._link(bucket, "ship", (lot.node, dest), els, (ev["actor"], ev["consignee"]))
        self._hold(bucket, lot.node[2], lot.form, els, -1.0)
        if self.holding and bucket is not None:
            key = (bucket, lot.node[2])
            self.shipped_mass[key] = self.shipped_mass.get(key, 0.0) + lot.mass
        lot.pending = (dest, lot.mass, ev["actor"], ev["consignee"])

    def _receive(self, bucket: str | None, ev: Mapping[str, Any]) -> None:
        lot = self.lots[ev["lot"]]
        if lot.pending is None:
            raise KeyError(ev["lot"])
        shipped = lot.pending[1]
        at = self.facilities[ev["facility"]]
        node = (at.stage, at.country, at.id)
        received = shipped if ev.get("mass_kg") is None else float(ev["mass_kg"])
        origin = lot.node
        lot.node, lot.mass, lot.pending = node, received, None
        self._node(bucket, "received", node, lot.at(received), ev["actor"])
        self._hold(bucket, at.id, lot.form, lot.at(received), 1.0)
        beyond = abs(received - shipped) > self.tol.of(shipped)
        delta = lot.at(received - shipped)
        self._node(bucket, "discrepant" if beyond else "transit", node, delta, ev["actor"])
        if bucket is None:
            return
        stats = self.routes.get((bucket, origin[2], at.id))
        if stats is None:
            stats = self.routes[(bucket, origin[2], at.id)] = RouteStats()
        stats.receipts += 1
        stats.shipped_kg += shipped
        stats.received_kg += received
        if beyond:
            stats.discrepant += 1
            stats.discrepant_kg += received - shipped

    def _adjust(self, bucket: str | None, ev: Mapping[str, Any]) -> None:
        lot, els, _ = self._take(ev["lot"], -float(ev["mass_kg"]))
        self._node(bucket, "adjusted", lot.node, els, ev["actor"])
        self._hold(bucket, lot.node[2], lot.form, els, -1.0)

    def _hold(
        self, bucket: str | None, facility: str, form: str, els: Elements, sign: float
    ) -> None:
        if self.holding and bucket is not None:
            _add(self.held, (bucket, facility, form), els, sign)

    # -- reading ------------------------------------------------------------------------------
    def in_transit(self) -> Iterator[tuple[Node, Node, Elements]]:
        """Lots shipped and not received: (from node, destination node, element kg shipped)."""
        for lot in self.lots.values():
            if lot.pending is not None:
                yield lot.node, lot.pending[0], lot.at(lot.pending[1])

    def live_lots(self) -> int:
        """How many lots the pass holds (active or in transit)."""
        return len(self.lots)

    def in_transit_kg(self) -> Elements:
        """Element kg shipped and not received when the pass ended."""
        total: Elements = {}
        for _, _, els in self.in_transit():
            _merge(total, els)
        return total


class FlowSums(Protocol):
    """What the reports read of a flow pass: the ``FlowEngine`` itself, or the same sums
    added up from the aggregate cache (``folded.PeriodSums``)."""

    @property
    def nodes(self) -> Mapping[tuple[str, str, Node], Mapping[str, float]]: ...
    @property
    def links(self) -> Mapping[tuple[str, str, Node, Node], Mapping[str, float]]: ...
    @property
    def routes(self) -> Mapping[tuple[str, str, str], RouteStats]: ...
    @property
    def held(self) -> Mapping[tuple[str, str, str], Mapping[str, float]]: ...
    @property
    def shipped_mass(self) -> Mapping[tuple[str, str], float]: ...
    @property
    def unresolved(self) -> int: ...
    def in_transit_kg(self) -> Mapping[str, float]: ...


def _merge(target: Elements, els: Mapping[str, float]) -> None:
    for e, kg in els.items():
        target[e] = target.get(e, 0.0) + kg
