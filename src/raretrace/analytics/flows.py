"""Flows between (stage, country) pairs over a period, from the flow pass (``engine.py``):
what a Sankey diagram draws, and per pair what entered, was produced, consumed, received,
shipped, lost and discrepant, and what was in stock when the period ended.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from raretrace.analytics.engine import FlowSums
from raretrace.analytics.period import Period
from raretrace.domain.elements import CONSERVED, ELEMENT_ORDER
from raretrace.domain.errors import ConfigError
from raretrace.domain.model import STAGES

__all__ = [
    "BEFORE",
    "IN",
    "ElementFlows",
    "FlowLink",
    "FlowReport",
    "Lane",
    "NodeFlows",
    "check_element",
    "flow_report",
]

#: The flow pass's two buckets for one period: before it starts, and inside it.
BEFORE, IN = "0-before", "1-in"
Place = tuple[str, str]  # (stage, country)
_STAGE_ORDER = {s: i for i, s in enumerate(STAGES)}


def _mg(kg: float) -> float:
    return round(kg, 6) + 0.0  # + 0.0 turns -0.0 into 0.0


@dataclass(frozen=True, slots=True)
class FlowLink:
    """kg of one element moved from one (stage, country) to another in the period:
    ``ship`` by shipments (at the mass shipped), ``transform`` by processing at a plant."""

    source: Place
    target: Place
    kind: str
    kg: float

    def to_json(self) -> dict[str, Any]:
        return {
            "from": {"stage": self.source[0], "country": self.source[1]},
            "to": {"stage": self.target[0], "country": self.target[1]},
            "kind": self.kind,
            "kg": _mg(self.kg),
        }


@dataclass(frozen=True, slots=True)
class NodeFlows:
    """One (stage, country) in the period, kg of one element."""

    place: Place
    entered: float
    produced: float
    consumed: float
    received: float
    shipped: float
    lost: float
    discrepant: float
    stock: float

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.place[0],
            "country": self.place[1],
            "entered_kg": _mg(self.entered),
            "produced_kg": _mg(self.produced),
            "consumed_kg": _mg(self.consumed),
            "received_kg": _mg(self.received),
            "shipped_kg": _mg(self.shipped),
            "lost_kg": _mg(self.lost),
            "discrepant_kg": _mg(self.discrepant),
            "stock_kg": _mg(self.stock),
        }


@dataclass(frozen=True, slots=True)
class ElementFlows:
    """Links, places and totals of one element. The totals balance: stock and in transit at
    the end, minus at the start, equal entered − lost + transit + discrepant."""

    element: str
    links: tuple[FlowLink, ...]
    nodes: tuple[NodeFlows, ...]
    totals: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {
            "links": [link.to_json() for link in self.links],
            "nodes": [node.to_json() for node in self.nodes],
            "totals": {k: _mg(v) for k, v in self.totals.items()},
        }


@dataclass(frozen=True, slots=True)
class Lane:
    """kg of conserved elements shipped from one facility to another in the period (the
    map's lanes; not in the JSON, which stays at (stage, country))."""

    source: str
    target: str
    kg: dict[str, float]


@dataclass(frozen=True, slots=True)
class FlowReport:
    """``raretrace analytics flows``: per element, its links, places and totals."""

    period: Period
    elements: dict[str, ElementFlows]
    unresolved_events: int = 0
    lanes: tuple[Lane, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            **self.period.to_json(),
            "elements": {e: f.to_json() for e, f in self.elements.items()},
            "unresolved_events": self.unresolved_events,
        }


def check_element(element: str | None) -> str | None:
    """``--element``: a conserved element key (the REEs, Th, U), or None for all."""
    if element is not None and element not in CONSERVED:
        known = sorted(CONSERVED, key=ELEMENT_ORDER.__getitem__)
        raise ConfigError(
            f"--element {element!r} is not an element the ledger follows; give one of"
            f" {', '.join(known)}"
        )
    return element


def _place_order(place: Place) -> tuple[int, str]:
    return _STAGE_ORDER.get(place[0], len(STAGES)), place[1]


def _node_sums(
    engine: FlowSums, element: str | None
) -> dict[str, dict[tuple[str, str, Place], float]]:
    """element → (bucket, measure, place) → kg, rolled up from facilities to places."""
    sums: dict[str, dict[tuple[str, str, Place], float]] = {}
    for (bucket, measure, node), els in engine.nodes.items():
        place = (node[0], node[1])
        for e, kg in els.items():
            if element is None or e == element:
                acc = sums.setdefault(e, {})
                key = (bucket, measure, place)
                acc[key] = acc.get(key, 0.0) + kg
    return sums


def _links(engine: FlowSums, element: str) -> tuple[FlowLink, ...]:
    rolled: dict[tuple[Place, Place, str], float] = {}
    for (bucket, kind, source, target), els in engine.links.items():
        kg = els.get(element, 0.0)
        a, b = (source[0], source[1]), (target[0], target[1])
        if bucket != IN or a == b or kg == 0:
            continue  # a pair to itself is not a move between pairs (its node counts it)
        rolled[(a, b, kind)] = rolled.get((a, b, kind), 0.0) + kg
    ordered = sorted(
        rolled.items(), key=lambda kv: (_place_order(kv[0][0]), _place_order(kv[0][1]), kv[0][2])
    )
    return tuple(FlowLink(a, b, kind, kg) for (a, b, kind), kg in ordered)


def _stock(
    get: Callable[[tuple[str, str, Place]], float], place: Place, buckets: Iterable[str]
) -> float:
    return sum(
        get((b, "entered", place)) + get((b, "produced", place)) + get((b, "received", place))
        - get((b, "consumed", place)) - get((b, "shipped", place)) - get((b, "adjusted", place))
        for b in buckets
    )  # fmt: skip


def _element_flows(
    element: str, sums: Mapping[tuple[str, str, Place], float], transit: tuple[float, float],
    links: tuple[FlowLink, ...],
) -> ElementFlows:  # fmt: skip
    def get(key: tuple[str, str, Place]) -> float:
        return sums.get(key, 0.0)

    places = sorted({p for (_, _, p) in sums}, key=_place_order)
    nodes = []
    for p in places:
        node = NodeFlows(
            place=p,
            entered=get((IN, "entered", p)),
            produced=get((IN, "produced", p)),
            consumed=get((IN, "consumed", p)),
            received=get((IN, "received", p)),
            shipped=get((IN, "shipped", p)),
            lost=get((IN, "lost", p)) + get((IN, "adjusted", p)),
            discrepant=get((IN, "discrepant", p)),
            stock=_stock(get, p, (BEFORE, IN)),
        )
        nodes.append(node)

    def total(measure: str, bucket: str = IN) -> float:
        return sum(get((bucket, measure, p)) for p in places)

    stock_start = sum(_stock(get, p, (BEFORE,)) for p in places)
    stock_end = sum(n.stock for n in nodes)
    in_transit_start, in_transit_end = transit
    totals = {
        "entered_kg": total("entered"),
        "lost_kg": total("lost") + total("adjusted"),
        "transit_kg": total("transit"),
        "discrepant_kg": total("discrepant"),
        "stock_start_kg": stock_start,
        "in_transit_start_kg": in_transit_start,
        "stock_end_kg": stock_end,
        "in_transit_end_kg": in_transit_end,
    }
    moved = stock_end + in_transit_end - stock_start - in_transit_start
    accounted = (
        totals["entered_kg"] - totals["lost_kg"] + totals["transit_kg"] + totals["discrepant_kg"]
    )
    totals["unbalanced_kg"] = moved - accounted
    return ElementFlows(element, links, tuple(n for n in nodes if _any(n)), totals)


def _any(node: NodeFlows) -> bool:
    return any(
        abs(v) > 0
        for v in (node.entered, node.produced, node.consumed, node.received, node.shipped,
                  node.lost, node.discrepant, node.stock)
    )  # fmt: skip


def _in_transit(
    engine: FlowSums, sums: Mapping[tuple[str, str, Place], float], element: str
) -> tuple[float, float]:
    """kg of ``element`` shipped and not yet received at the period's start and end."""

    def before(measure: str) -> float:
        return sum(kg for (b, m, _), kg in sums.items() if b == BEFORE and m == measure)

    start = before("shipped") - (before("received") - before("transit") - before("discrepant"))
    end = engine.in_transit_kg().get(element, 0.0)
    return start, end


def flow_report(engine: FlowSums, period: Period, element: str | None = None) -> FlowReport:
    """The flows of a pass whose buckets are ``BEFORE`` and ``IN``, for one element or all."""
    sums = _node_sums(engine, element)
    order = sorted(sums, key=ELEMENT_ORDER.__getitem__)
    return FlowReport(
        period=period,
        elements={
            e: _element_flows(e, sums[e], _in_transit(engine, sums[e], e), _links(engine, e))
            for e in order
        },
        unresolved_events=engine.unresolved,
        lanes=_lanes(engine, element),
    )


def _lanes(engine: FlowSums, element: str | None) -> tuple[Lane, ...]:
    by: dict[tuple[str, str], dict[str, float]] = {}
    for (bucket, kind, source, target), els in engine.links.items():
        if bucket != IN or kind != "ship":
            continue
        acc = by.setdefault((source[2], target[2]), {})
        for e, kg in els.items():
            if element is None or e == element:
                acc[e] = acc.get(e, 0.0) + kg
    return tuple(Lane(a, b, kg) for (a, b), kg in sorted(by.items()) if kg)
