"""``raretrace analytics scenario``: the allocation that meets the most demand at least cost,
baseline and shocked, and what the difference is made of.

``run_scenario`` solves the LP of ``scenario_model`` twice — the network as it is, then with
the file's shocks — and reports per element and region the demand met and unmet, the binding
capacities with their shadow prices, the lanes whose flows changed, and each stage's country
shares. An input the LP cannot solve is explained in words (``scenario_explain``), never
passed on as a solver status.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from raretrace.analytics.lp import OPTIMAL, Solution
from raretrace.analytics.network import Scenario, Shock
from raretrace.analytics.scenario_explain import explain_failure, unmet_reasons
from raretrace.analytics.scenario_model import Layers, Model, segments
from raretrace.domain.model import STAGES

#: Below this many tonnes a flow, shortage or slack is solver noise and shown as zero.
EPSILON_T = 1e-6


@dataclass(frozen=True, slots=True)
class Delivery:
    """One element in one region: what was asked, got and missed (t/y), and its marginal
    cost (US$ per t: what one more tonne of this demand would cost to serve)."""

    region: str
    element: str
    demand_t: float
    met_t: float
    unmet_t: float
    marginal_usd_per_t: float | None

    def to_json(self) -> dict[str, object]:
        return {"region": self.region, "element": self.element, "demand_t": self.demand_t,
                "met_t": self.met_t, "unmet_t": self.unmet_t,
                "marginal_usd_per_t": self.marginal_usd_per_t}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Binding:
    """A capacity used to its limit: ``kind`` is facility, lane or port.
    ``shortage_t_per_t``: tonnes of unmet demand one more tonne a year of it would avoid;
    ``shadow_usd_per_t``: what it would save in cost, demand met as it is (both duals, over
    the segments it binds in); ``periods``: the segments (start dates) where it binds."""

    kind: str
    id: str
    capacity_t: float
    used_t: float
    shadow_usd_per_t: float
    shortage_t_per_t: float
    periods: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind, "id": self.id, "capacity_t": self.capacity_t,
            "used_t": self.used_t, "shadow_usd_per_t": self.shadow_usd_per_t,
            "shortage_t_per_t": self.shortage_t_per_t, "periods": list(self.periods),
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Run:
    """One solved allocation (baseline or shocked)."""

    cost_usd: float
    deliveries: tuple[Delivery, ...]
    binding: tuple[Binding, ...]
    lane_flows: Mapping[tuple[str, str], float]
    outputs: Mapping[tuple[str, str], float]
    stage_shares: Mapping[str, Mapping[str, Mapping[str, float]]]
    reasons: tuple[str, ...]

    @property
    def unmet_t(self) -> float:
        """All demand unmet, every element and region (t/y)."""
        return sum(d.unmet_t for d in self.deliveries)

    def to_json(self) -> dict[str, object]:
        return {
            "cost_usd": self.cost_usd,
            "deliveries": [d.to_json() for d in self.deliveries],
            "binding": [b.to_json() for b in self.binding],
            "lane_flows": [{"lane": lane, "element": el, "t": t}
                           for (lane, el), t in sorted(self.lane_flows.items())],
            "stage_shares": self.stage_shares,
            "unmet_reasons": list(self.reasons),
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Reroute:
    """A lane whose flow of an element changed under the shocks."""

    lane: str
    element: str
    baseline_t: float
    shocked_t: float

    def to_json(self) -> dict[str, object]:
        change = self.shocked_t - self.baseline_t
        return {"lane": self.lane, "element": self.element, "baseline_t": self.baseline_t,
                "shocked_t": self.shocked_t, "change_t": change}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ScenarioReport:
    """Baseline and shocked allocations side by side."""

    title: str
    year: int
    elements: tuple[str, ...]
    shocks: tuple[str, ...]
    periods: tuple[tuple[str, str], ...]
    baseline: Run
    shocked: Run
    reroutes: tuple[Reroute, ...]
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "title": self.title, "year": self.year, "elements": list(self.elements),
            "shocks": list(self.shocks),
            "periods": [{"from": a, "to": b} for a, b in self.periods],
            "baseline": self.baseline.to_json(), "shocked": self.shocked.to_json(),
            "reroutes": [r.to_json() for r in self.reroutes], "notes": list(self.notes),
        }  # fmt: skip


def run_scenario(scenario: Scenario) -> ScenarioReport:
    """Solve the scenario's baseline and shocked allocations and compare them."""
    baseline = solve(scenario, ())
    shocked = solve(scenario, scenario.shocks)
    seg = segments(scenario.year, scenario.shocks)
    return ScenarioReport(
        title=scenario.title, year=scenario.year, elements=scenario.elements,
        shocks=tuple(s.label for s in scenario.shocks),
        periods=tuple((s.start.isoformat(), s.end.isoformat()) for s in seg),
        baseline=baseline, shocked=shocked, reroutes=reroutes(baseline, shocked),
        notes=idle_shocks(scenario),
    )  # fmt: skip


def solve(
    scenario: Scenario,
    shocks: Sequence[Shock],
    *,
    layers: Layers | None = None,
    extra_capacity: Mapping[str, float] | None = None,
    removed: frozenset[str] = frozenset(),
) -> Run:
    """One allocation, lexicographically: first the least unmet demand (every tonne of every
    element counts the same), then, with no more unmet than that, the least cost. The
    shortage duals of the first pass and the cost duals of the second are the two shadow
    prices of each binding capacity."""
    model = Model(scenario, segments(scenario.year, shocks), tuple(shocks),
                  layers=layers or Layers(), extra_capacity=extra_capacity or {},
                  removed=removed).build()  # fmt: skip
    first, second = solve_model(model)
    return read_run(model, second, shortage=first)


def solve_model(model: Model) -> tuple[Solution, Solution]:
    """The two passes over a built model: (least unmet, least cost at that unmet)."""
    lp = model.lp
    shorts = [i for i, c in enumerate(lp.columns) if c.key[0] == "short"]  # type: ignore[index]
    chosen = set(shorts)
    first = lp.solve(costs=[1.0 if i in chosen else 0.0 for i in range(len(lp.columns))])
    if first.status != OPTIMAL:
        raise explain_failure(model, first.status, "scenario")
    least = sum(first.value(lp.columns[i].key) for i in shorts)
    lp.constrain(("least-unmet",), dict.fromkeys(shorts, 1.0),
                 upper=least + 1e-9 * max(1.0, least) + 1e-9)  # fmt: skip
    costs = [0.0 if i in chosen else c.cost for i, c in enumerate(lp.columns)]
    second = lp.solve(costs=costs)
    if second.status != OPTIMAL:
        raise explain_failure(model, second.status, "scenario")
    return first, second


def read_run(model: Model, solution: Solution, *, shortage: Solution | None = None) -> Run:
    """The report of a solved model (``shortage``: the first pass's solution, for the
    shortage shadow prices)."""
    scenario = model.scenario
    lane_flows: dict[tuple[str, str], float] = defaultdict(float)
    outputs: dict[tuple[str, str], float] = defaultdict(float)
    origin = {lane.id: lane.origin for lane in scenario.lanes}
    for key, value in solution.values.items():
        if isinstance(key, tuple) and key[0] == "flow" and value > EPSILON_T:
            _, lane, element, _, _ = key
            lane_flows[(lane, element)] += value
            outputs[(origin[lane], element)] += value
    deliveries = _deliveries(model, solution)
    return Run(
        cost_usd=_cost(model, solution), deliveries=deliveries,
        binding=_binding(model, solution, shortage), lane_flows=dict(lane_flows),
        outputs=dict(outputs),
        stage_shares=stage_shares(scenario, outputs),
        reasons=unmet_reasons(
            model, [d for d in deliveries if d.unmet_t > EPSILON_T], shortage or solution
        ),
    )  # fmt: skip


def _cost(model: Model, solution: Solution) -> float:
    """The objective less the shortage penalties: what the allocation costs to run."""
    total = 0.0
    for col in model.lp.columns:
        if col.key[0] not in ("short", "excess-short"):  # type: ignore[index]
            total += col.cost * solution.value(col.key)
    return total


def _deliveries(model: Model, solution: Solution) -> tuple[Delivery, ...]:
    found = []
    for (region, element), demand in sorted(model.demand.items()):
        short = sum(solution.value(("short", region, element, s.index)) for s in model.segments)
        duals = [solution.duals.get(("demand", region, element, s.index)) for s in model.segments]
        weights = [s.weight for s in model.segments]
        known = [(d, w) for d, w in zip(duals, weights, strict=True) if d is not None]
        marginal = sum(d * w for d, w in known) / sum(w for _, w in known) if known else None
        short = 0.0 if short < EPSILON_T else short
        priced = marginal is not None and demand > 0 and short == 0.0
        found.append(Delivery(region, element, demand, max(0.0, demand - short), short,
                              marginal if priced else None))  # fmt: skip
    return tuple(found)


def _binding(model: Model, solution: Solution, shortage: Solution | None) -> tuple[Binding, ...]:
    grouped: dict[tuple[str, str], list[tuple[str, float, float, float, float]]] = {}
    for (kind, ident, s), weight in model.capacity_rows.items():
        key = ("cap", kind, ident, s)
        row = model.lp.rows[model.lp.row_index[key]]
        used = solution.row_activity.get(key, 0.0)
        dual = solution.duals.get(key, 0.0)
        scarce = shortage.duals.get(key, 0.0) if shortage is not None else 0.0
        full = used >= row.upper - 1e-7 * max(1.0, row.upper)
        if full and (row.upper > 0 or dual < -1e-9 or scarce < -1e-9):  # down sites bind at 0
            grouped.setdefault((kind, ident), []).append(
                (model.segments[s].start.isoformat(), row.upper, used, -dual * weight,
                 -scarce * weight))  # fmt: skip
    found = []
    for (kind, ident), hits in grouped.items():
        found.append(Binding(
            kind, ident, capacity_t=sum(h[1] for h in hits), used_t=sum(h[2] for h in hits),
            shadow_usd_per_t=max(0.0, sum(h[3] for h in hits)),
            shortage_t_per_t=max(0.0, sum(h[4] for h in hits)),
            periods=tuple(h[0] for h in hits),
        ))  # fmt: skip
    return tuple(sorted(found, key=lambda b: (-b.shortage_t_per_t, -b.shadow_usd_per_t,
                                              b.kind, b.id)))  # fmt: skip


def stage_shares(
    scenario: Scenario, outputs: Mapping[tuple[str, str], float]
) -> dict[str, dict[str, dict[str, float]]]:
    """Per element and stage, each country's share of the stage's output (a facility's
    output counts for every stage it performs)."""
    tonnes: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for (facility_id, element), t in outputs.items():
        facility = scenario.facilities[facility_id]
        for stage in facility.stages:
            by_country = tonnes[element][stage]
            by_country[facility.country] = by_country.get(facility.country, 0.0) + t
    shares: dict[str, dict[str, dict[str, float]]] = {}
    for element in scenario.elements:
        for stage in STAGES:
            by_country = tonnes.get(element, {}).get(stage, {})
            total = sum(by_country.values())
            if total > EPSILON_T:
                shares.setdefault(element, {})[stage] = {
                    c: t / total for c, t in sorted(by_country.items(), key=lambda i: -i[1])
                }
    return shares


def reroutes(baseline: Run, shocked: Run) -> tuple[Reroute, ...]:
    """Lanes and elements whose flow changed, largest change first."""
    keys = set(baseline.lane_flows) | set(shocked.lane_flows)
    found = [
        Reroute(lane, el, baseline.lane_flows.get((lane, el), 0.0),
                shocked.lane_flows.get((lane, el), 0.0))
        for lane, el in keys
    ]  # fmt: skip
    changed = [r for r in found if abs(r.shocked_t - r.baseline_t) > 1e-6 * max(1.0, r.baseline_t)]
    return tuple(
        sorted(changed, key=lambda r: (-abs(r.shocked_t - r.baseline_t), r.lane, r.element))
    )


def idle_shocks(scenario: Scenario) -> tuple[str, ...]:
    """Notes on shocks that change nothing in the year solved."""
    notes = []
    for shock in scenario.shocks:
        if shock.type == "demand-growth":
            if shock.year != scenario.year:
                notes.append(f"{shock.label}: no effect, the scenario solves {scenario.year}")
            continue
        ends_before = shock.end is not None and shock.end.year < scenario.year
        starts_after = shock.start is not None and shock.start.year > scenario.year
        if ends_before or starts_after:
            notes.append(f"{shock.label}: not in force in {scenario.year}, no effect")
    return tuple(notes)
