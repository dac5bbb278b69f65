"""The allocation LP (and the corridor MIP's network part), built from a Scenario.

The year is cut into segments at every date a shock starts or ends; in each segment every
capacity and every demand is its annual figure times the segment's share of the year (and
zero where an outage, closure or ban holds). Segments share nothing (no stock is carried from
one to the next), so a shock's shortfall is not buffered by inventories. docs/analytics.md
writes out the formulation: variables, constraints, objective.

Variables (t of element content in the segment): ``flow`` on each lane per element and
layer, ``make`` at each source, ``short`` per region and element; the corridor adds
``build`` binaries and target slacks. A layer is the material bound for one market (the US
defence market, the EU) when the corridor's constraints need it followed; otherwise there is
one layer, ``all``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from raretrace.analytics.lp import INF, LinearProgram
from raretrace.analytics.network import (
    CAPACITY_ADDITION,
    DEMAND_GROWTH,
    EXPORT_BAN,
    OUTAGE,
    PORT_CLOSURE,
    Facility,
    Lane,
    Scenario,
    Shock,
)

ALL = "all"


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of the year ``[start, end)`` in which nothing changes; ``weight`` is its
    share of the year."""

    index: int
    start: dt.date
    end: dt.date
    weight: float


@dataclass(frozen=True, slots=True)
class Layers:
    """Which markets have their own layer, and what each layer may not pass through."""

    regions: frozenset[str] = frozenset()
    excluded_countries: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def of_region(self, region: str) -> str:
        """The layer that delivers to ``region``."""
        return region if region in self.regions else ALL

    @property
    def names(self) -> tuple[str, ...]:
        """Every layer, ``all`` first."""
        return (ALL, *sorted(self.regions))


def segments(year: int, shocks: Iterable[Shock]) -> tuple[Segment, ...]:
    """The year cut at every date a shock starts or ends inside it."""
    first, last = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    cuts = {first, last}
    for shock in shocks:
        for day in (shock.start, shock.end):
            if day is not None and first < day < last:
                cuts.add(day)
    ordered = sorted(cuts)
    days = 366 if calendar.isleap(year) else 365
    pairs = enumerate(itertools.pairwise(ordered))
    return tuple(Segment(i, a, b, (b - a).days / days) for i, (a, b) in pairs)


def _in_force(shock: Shock, segment: Segment) -> bool:
    starts = shock.start is None or shock.start <= segment.start
    ends = shock.end is None or shock.end >= segment.end
    return starts and ends


@dataclass(slots=True)
class Model:
    """The LP of one scenario run, with the indexes needed to read its solution."""

    scenario: Scenario
    segments: tuple[Segment, ...]
    shocks: tuple[Shock, ...]
    layers: Layers = field(default_factory=Layers)
    extra_capacity: Mapping[str, float] = field(default_factory=dict)
    removed: frozenset[str] = frozenset()
    lp: LinearProgram = field(default_factory=LinearProgram)
    demand: dict[tuple[str, str], float] = field(default_factory=dict)
    hard: dict[tuple[str, str], float] = field(default_factory=dict)
    outflows: dict[tuple[str, str, str, int], list[int]] = field(default_factory=dict)
    capacity_rows: dict[tuple[str, str, int], float] = field(default_factory=dict)
    lanes_into: dict[str, list[Lane]] = field(default_factory=dict)

    def build(self, *, shortage_allowance: Mapping[tuple[str, str, int], float] | None = None,
              ) -> Model:  # fmt: skip
        """Add every variable and constraint; ``shortage_allowance`` (region, element,
        segment → t) charges the shortage cost only for shortage beyond it (the corridor)."""
        self._demand()
        for lane in self.scenario.lanes:
            self.lanes_into.setdefault(lane.destination, []).append(lane)
        for segment in self.segments:
            self._flows(segment)
            self._facilities(segment)
            self._ports_and_lanes(segment)
            self._regions(segment, shortage_allowance)
        return self

    # -- demand ---------------------------------------------------------------------------
    def _demand(self) -> None:
        growth = {s.region: s.factor for s in self.shocks
                  if s.type == DEMAND_GROWTH and s.year == self.scenario.year}  # fmt: skip
        for entry in self.scenario.demand:
            if entry.year != self.scenario.year:
                continue
            factor = growth.get(entry.region, 1.0)
            for element in self.scenario.elements:
                key = (entry.region, element)
                amount = entry.magnets_t * entry.content.get(element, 0.0) * factor
                self.demand[key] = self.demand.get(key, 0.0) + amount
                if entry.must_meet:
                    self.hard[key] = self.hard.get(key, 0.0) + amount

    # -- what may flow --------------------------------------------------------------------
    def banned(self, lane: Lane, element: str, segment: Segment) -> bool:
        """Whether an export ban in force stops ``element`` on ``lane`` in ``segment``."""
        scenario = self.scenario
        origin = scenario.facilities[lane.origin]
        if lane.destination in scenario.regions:
            to = set(scenario.regions[lane.destination].countries)
        else:
            to = {scenario.facilities[lane.destination].country}
        for shock in self.shocks:
            if shock.type != EXPORT_BAN or not _in_force(shock, segment):
                continue
            if origin.country != shock.country or element not in shock.elements:
                continue
            if shock.stages and not set(shock.stages) & set(origin.stages):
                continue
            if to != {shock.country}:  # leaves the country (a region wider than it counts)
                return True
        return False

    def _lane_layers(self, lane: Lane) -> tuple[str, ...]:
        if lane.destination in self.scenario.regions:
            return (self.layers.of_region(lane.destination),)
        return self.layers.names

    def _layer_allowed(self, layer: str, lane: Lane) -> bool:
        excluded = self.layers.excluded_countries.get(layer, frozenset())
        ends = [lane.origin, lane.destination]
        return not any(self.scenario.country_of(n) in excluded for n in ends)

    def _flows(self, segment: Segment) -> None:
        scenario = self.scenario
        for lane in scenario.lanes:
            if self._lane_closed(lane):
                continue
            cost = lane.cost_usd_per_t + sum(scenario.ports[p].cost_usd_per_t for p in lane.via)
            origin = scenario.facilities[lane.origin]
            if not origin.is_source:
                cost += origin.cost_usd_per_t
            for element in lane.elements or scenario.elements:
                if self.banned(lane, element, segment):
                    continue
                for layer in self._lane_layers(lane):
                    if not self._layer_allowed(layer, lane):
                        continue
                    col = self.lp.var(("flow", lane.id, element, layer, segment.index),
                                      cost=cost * 1.0)  # fmt: skip
                    self.outflows.setdefault((lane.origin, element, layer, segment.index),
                                             []).append(col)  # fmt: skip

    def _lane_closed(self, lane: Lane) -> bool:
        return bool({lane.origin, lane.destination, *lane.via} & self.removed)

    def flow_cols(self, lane: Lane, segment: int) -> list[tuple[int, str, str]]:
        """(column, element, layer) of every flow variable on ``lane`` in ``segment``."""
        found = []
        for element in lane.elements or self.scenario.elements:
            for layer in self.layers.names:
                col = self.lp.index.get(("flow", lane.id, element, layer, segment))
                if col is not None:
                    found.append((col, element, layer))
        return found

    # -- facilities -----------------------------------------------------------------------
    def availability(self, node: str, segment: Segment) -> float:
        """1.0, or 0.0 while an outage or closure of ``node`` holds (or it was removed)."""
        if node in self.removed:
            return 0.0
        for shock in self.shocks:
            hit = (shock.type == OUTAGE and shock.facility == node) or (
                shock.type == PORT_CLOSURE and shock.port == node)  # fmt: skip
            if hit and _in_force(shock, segment):
                return 0.0
        return 1.0

    def capacity(self, node: str, base: float | None, segment: Segment) -> float | None:
        """Annual capacity of ``node`` in force in ``segment`` (None: no limit)."""
        if base is None:
            return None
        added = self.extra_capacity.get(node, 0.0)
        for shock in self.shocks:
            started = shock.start is None or shock.start <= segment.start
            if shock.type == CAPACITY_ADDITION and shock.facility == node and started:
                added += shock.capacity_t
        return (base + added) * self.availability(node, segment)

    def _inflows(self, facility: str, element: str, segment: int) -> dict[str, list[int]]:
        found: dict[str, list[int]] = defaultdict(list)
        for lane in self.lanes_into.get(facility, []):
            for col, el, layer in self.flow_cols(lane, segment):
                if el == element:
                    found[layer].append(col)
        return found

    def _facilities(self, segment: Segment) -> None:
        for facility in self.scenario.facilities.values():
            if facility.is_source:
                self._source(facility, segment)
            else:
                self._processor(facility, segment)

    def _source(self, facility: Facility, segment: Segment) -> None:
        s = segment.index
        cap = self.capacity(facility.id, facility.capacity_t, segment)
        upper = INF if cap is None else cap * segment.weight
        make = self.lp.var(("make", facility.id, s), cost=facility.cost_usd_per_t)
        self.capacity_rows[("facility", facility.id, s)] = segment.weight
        self.lp.constrain(("cap", "facility", facility.id, s), {make: 1.0}, upper=upper)
        assert facility.composition is not None
        for element, share in facility.composition.items():
            out = self._out(facility.id, element, s)
            if out:
                self.lp.constrain(("supply", facility.id, element, s),
                                  {**dict.fromkeys(out, 1.0), make: -share}, upper=0.0)  # fmt: skip

    def _out(self, facility: str, element: str, s: int) -> list[int]:
        return [c for layer in self.layers.names
                for c in self.outflows.get((facility, element, layer, s), [])]  # fmt: skip

    def _processor(self, facility: Facility, segment: Segment) -> None:
        s = segment.index
        for element in self.scenario.elements:
            inflows = self._inflows(facility.id, element, s)
            for layer in self.layers.names:
                out = self.outflows.get((facility.id, element, layer, s), [])
                if not out:
                    continue
                coefs = dict.fromkeys(out, 1.0)
                for col in inflows.get(layer, []):
                    coefs[col] = coefs.get(col, 0.0) - facility.recovery[element]
                self.lp.constrain(("balance", facility.id, element, layer, s), coefs, upper=0.0)
        cap = self.capacity(facility.id, facility.capacity_t, segment)
        if cap is None:
            return
        counted = facility.capacity_elements or self.scenario.elements
        cols = [c for e in counted for c in self._out(facility.id, e, s)]
        self.capacity_rows[("facility", facility.id, s)] = segment.weight
        self.lp.constrain(("cap", "facility", facility.id, s), dict.fromkeys(cols, 1.0),
                          upper=cap * segment.weight)  # fmt: skip

    # -- ports and lanes ------------------------------------------------------------------
    def _ports_and_lanes(self, segment: Segment) -> None:
        s = segment.index
        through: dict[str, list[int]] = defaultdict(list)
        for lane in self.scenario.lanes:
            cols = [col for col, _, _ in self.flow_cols(lane, s)]
            for port in lane.via:
                through[port].extend(cols)
            if lane.capacity_t is not None and cols:
                self.capacity_rows[("lane", lane.id, s)] = segment.weight
                self.lp.constrain(("cap", "lane", lane.id, s), dict.fromkeys(cols, 1.0),
                                  upper=lane.capacity_t * segment.weight)  # fmt: skip
        for hub in self.scenario.ports.values():
            cap = self.capacity(hub.id, hub.capacity_t, segment)
            if cap is None or not through[hub.id]:
                continue
            self.capacity_rows[("port", hub.id, s)] = segment.weight
            self.lp.constrain(("cap", "port", hub.id, s), dict.fromkeys(through[hub.id], 1.0),
                              upper=cap * segment.weight)  # fmt: skip

    # -- regions --------------------------------------------------------------------------
    def _regions(self, segment: Segment,
                 allowance: Mapping[tuple[str, str, int], float] | None) -> None:  # fmt: skip
        s, scenario = segment.index, self.scenario
        penalty = scenario.shortage_cost_usd_per_t
        for (region, element), amount in self.demand.items():
            need = amount * segment.weight
            hard = self.hard.get((region, element), 0.0) * segment.weight
            short = self.lp.var(("short", region, element, s), upper=need - hard,
                                cost=0.0 if allowance is not None else penalty)  # fmt: skip
            coefs = {short: 1.0}
            for lane in self.lanes_into.get(region, []):
                for col, el, _ in self.flow_cols(lane, s):
                    if el == element:
                        coefs[col] = 1.0
            self.lp.constrain(("demand", region, element, s), coefs, lower=need, upper=need)
            if allowance is not None:
                excess = self.lp.var(("excess-short", region, element, s), cost=penalty)
                self.lp.constrain(("allowance", region, element, s), {short: 1.0, excess: -1.0},
                                  upper=allowance.get((region, element, s), 0.0))  # fmt: skip

    # -- reading --------------------------------------------------------------------------
    def output_cols(self, facility: str, element: str | None = None,
                    layer: str | None = None) -> list[int]:  # fmt: skip
        """Flow columns leaving ``facility`` over all segments (optionally one element or
        layer)."""
        return [
            col for (f, el, ly, _), cols in self.outflows.items()
            if f == facility and element in (None, el) and layer in (None, ly) for col in cols
        ]  # fmt: skip
