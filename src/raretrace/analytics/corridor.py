"""``raretrace analytics corridor``: which capacity to add, where and through which hubs to
meet a target at least cost — a mixed-integer program over the scenario network — and how
the plan holds up when any one plant, port or country fails.

The MIP is the allocation LP of ``scenario_model`` with a binary ``build`` per option (the
options on one site are alternative capacity steps), hard targets, and the constraints a user
switches on (US-defence exclusion, the EU's 65% single-country limit, a recycled floor).
Demand outside the targets keeps what the network gives it today: the shortage cost is
charged only on shortage beyond the baseline's, so the plan neither starves others nor is
rewarded for serving them. docs/analytics.md writes out the formulation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from raretrace.analytics.corridor_rows import add_policy_rows, add_target_rows, target_rows
from raretrace.analytics.lp import INFEASIBLE, OPTIMAL, Solution
from raretrace.analytics.network import (
    CONSTRAINTS,
    US_DEFENCE,
    CorridorSpec,
    Option,
    Scenario,
)
from raretrace.analytics.scenario import EPSILON_T, solve_model, stage_shares
from raretrace.analytics.scenario_explain import explain_failure
from raretrace.analytics.scenario_model import Layers, Model, segments
from raretrace.domain.errors import ConfigError, ValidationError

#: Seconds HiGHS may spend on the MIP before the plan found so far is reported.
MIP_TIME_LIMIT_S = 120.0


@dataclass(frozen=True, slots=True)
class Built:
    """An option the plan takes."""

    option: str
    site: str
    kind: str
    country: str
    capacity_t: float
    annual_cost_usd: float


@dataclass(frozen=True, slots=True)
class TargetResult:
    """A target: what it asks (t/y) and what the plan achieves."""

    id: str
    required_t: float
    achieved_t: float


@dataclass(frozen=True, slots=True)
class Hub:
    """A port the plan's material passes through, with its tonnes and capacity."""

    port: str
    country: str
    t: float
    capacity_t: float | None


@dataclass(frozen=True, slots=True)
class Failure:
    """The plan with one plant, port or country out for the whole year: the targets'
    shortfall, and other demand's shortfall beyond the baseline's."""

    kind: str
    id: str
    target_shortfall_t: float
    target_required_t: float
    other_shortfall_t: float

    @property
    def share(self) -> float:
        """The target shortfall as a share of what the targets require."""
        return self.target_shortfall_t / self.target_required_t if self.target_required_t else 0.0


@dataclass(frozen=True, slots=True)
class CorridorReport:
    """The plan, its cost, the hubs it uses, its targets and its resilience."""

    title: str
    year: int
    constraints: tuple[str, ...]
    built: tuple[Built, ...]
    build_cost_usd: float
    operating_cost_usd: float
    targets: tuple[TargetResult, ...]
    hubs: tuple[Hub, ...]
    stage_shares: Mapping[str, Mapping[str, Mapping[str, float]]]
    resilience: tuple[Failure, ...]
    proven_optimal: bool

    def to_json(self) -> dict[str, object]:
        return {
            "title": self.title, "year": self.year, "constraints": list(self.constraints),
            "plan": [vars_of(b) for b in self.built],
            "cost": {"build_usd": self.build_cost_usd, "operating_usd": self.operating_cost_usd,
                     "total_usd": self.build_cost_usd + self.operating_cost_usd},
            "targets": [vars_of(t) for t in self.targets],
            "hubs": [vars_of(h) for h in self.hubs],
            "stage_shares": self.stage_shares,
            "resilience": [{**vars_of(f), "share": f.share} for f in self.resilience],
            "proven_optimal": self.proven_optimal,
        }  # fmt: skip


def vars_of(obj: object) -> dict[str, object]:
    """A frozen dataclass's fields as a dict (slots classes have no ``__dict__``)."""
    return {name: getattr(obj, name) for name in obj.__slots__}  # type: ignore[attr-defined]


def switched(spec: CorridorSpec, enable: Iterable[str], disable: Iterable[str]) -> frozenset[str]:
    """The constraints in force: the file's, with the command line's switches applied."""
    on, off = set(enable), set(disable)
    for name in on | off:
        if name not in CONSTRAINTS:
            raise ConfigError(f"unknown constraint {name!r}; known: {', '.join(CONSTRAINTS)}")
    if on & off:
        raise ConfigError(f"{sorted(on & off)} both enabled and disabled; give one")
    return frozenset((spec.enabled | on) - off)


def plan_corridor(
    scenario: Scenario,
    *,
    enable: Iterable[str] = (),
    disable: Iterable[str] = (),
    resilience: bool = True,
) -> CorridorReport:
    """Solve the corridor MIP and (unless ``resilience`` is off) every single failure."""
    spec = scenario.corridor
    if spec is None:
        raise ConfigError("the scenario file has no 'corridor' section (options and targets); "
                          "see docs/analytics.md, 'The corridor plan'")  # fmt: skip
    enabled = switched(spec, enable, disable)
    _check_enabled(spec, enabled)
    layers = corridor_layers(scenario, spec, enabled)
    allowance = baseline_shortage(scenario)
    model = Model(scenario, segments(scenario.year, scenario.shocks), scenario.shocks,
                  layers=layers).build(shortage_allowance=allowance)  # fmt: skip
    builds = _add_options(model, spec.options)
    add_target_rows(model, spec.targets, soft=False)
    add_policy_rows(model, spec, enabled)
    solution = model.lp.solve(time_limit=MIP_TIME_LIMIT_S)
    if solution.status == INFEASIBLE:
        raise _unreachable(scenario, spec, enabled, layers, allowance)
    if solution.status != OPTIMAL:
        raise explain_failure(model, solution.status, "corridor")
    built = _built(scenario, spec.options, builds, solution)
    extra: dict[str, float] = defaultdict(float)
    for b in built:
        extra[b.site] += b.capacity_t
    failures = (_resilience(scenario, spec, enabled, layers, allowance, extra)
                if resilience else ())  # fmt: skip
    build_cost = sum(b.annual_cost_usd for b in built)
    return CorridorReport(
        title=scenario.title, year=scenario.year, constraints=tuple(sorted(enabled)),
        built=built, build_cost_usd=build_cost,
        operating_cost_usd=_operating(model, solution), targets=_targets(model, solution),
        hubs=_hubs(model, solution), stage_shares=stage_shares(scenario, _outputs(model,
        solution)), resilience=failures, proven_optimal=True,
    )  # fmt: skip


def _check_enabled(spec: CorridorSpec, enabled: frozenset[str]) -> None:
    for name in sorted(enabled - spec.configured):
        raise ConfigError(f"constraint {name} is switched on but the file's "
                          f"corridor.constraints has no '{name}' entry; add one "
                          "(docs/analytics.md, 'The corridor plan')")  # fmt: skip


def corridor_layers(scenario: Scenario, spec: CorridorSpec, enabled: frozenset[str]) -> Layers:
    """A layer for each market a switched-on constraint follows."""
    regions, excluded = set(), {}
    if US_DEFENCE in enabled:
        regions.add(spec.us_defence_region)
        excluded[spec.us_defence_region] = frozenset(spec.us_defence_excluded)
    if "eu-single-country" in enabled:
        regions.add(spec.eu_region)
    return Layers(frozenset(regions), excluded)


def baseline_shortage(scenario: Scenario) -> dict[tuple[str, str, int], float]:
    """Each demand's shortage per segment in today's network with the file's shocks."""
    model = Model(scenario, segments(scenario.year, scenario.shocks), scenario.shocks).build()
    _, solution = solve_model(model)
    return {
        (key[1], key[2], key[3]): value
        for key, value in solution.values.items()
        if isinstance(key, tuple) and key[0] == "short"
    }


def _add_options(model: Model, options: Iterable[Option]) -> dict[str, int]:
    lp, scenario = model.lp, model.scenario
    cols, by_site = {}, defaultdict(list)
    for option in options:
        col = lp.var(("build", option.id), cost=option.annual_cost_usd, upper=1.0, integer=True)
        cols[option.id], kind = col, "facility" if option.site in scenario.facilities else "port"
        by_site[option.site].append(col)
        for segment in model.segments:
            key = ("cap", kind, option.site, segment.index)
            if key in lp.row_index:
                room = option.capacity_t * segment.weight
                lp.add_term(key, col, -room * model.availability(option.site, segment))
    for site, site_cols in by_site.items():
        if len(site_cols) > 1:
            lp.constrain(("one-step", site), dict.fromkeys(site_cols, 1.0), upper=1.0)
    return cols


def _built(
    scenario: Scenario, options: Iterable[Option], cols: Mapping[str, int], solution: Solution
) -> tuple[Built, ...]:
    found = []
    for option in options:
        if solution.value(("build", option.id)) > 0.5:
            kind = "facility" if option.site in scenario.facilities else "port"
            found.append(Built(option.id, option.site, kind, scenario.country_of(option.site),
                               option.capacity_t, option.annual_cost_usd))  # fmt: skip
    return tuple(found)


def _operating(model: Model, solution: Solution) -> float:
    skip = ("short", "excess-short", "build", "target-slack")
    total = 0.0
    for col in model.lp.columns:
        if col.key[0] not in skip:  # type: ignore[index]
            total += col.cost * solution.value(col.key)
    return total


def _outputs(model: Model, solution: Solution) -> dict[tuple[str, str], float]:
    origin = {lane.id: lane.origin for lane in model.scenario.lanes}
    outputs: dict[tuple[str, str], float] = defaultdict(float)
    for key, value in solution.values.items():
        if isinstance(key, tuple) and key[0] == "flow" and value > EPSILON_T:
            outputs[(origin[key[1]], key[2])] += value
    return outputs


def _targets(model: Model, solution: Solution) -> tuple[TargetResult, ...]:
    assert model.scenario.corridor is not None
    found = []
    for target, required, achieved_cols, offset in target_rows(
        model, model.scenario.corridor.targets
    ):
        achieved = offset + sum(sign * solution.value(model.lp.columns[c].key)
                                for c, sign in achieved_cols)  # fmt: skip
        found.append(TargetResult(target.id, required, max(0.0, achieved)))
    return tuple(found)


def _hubs(model: Model, solution: Solution) -> tuple[Hub, ...]:
    through: dict[str, float] = defaultdict(float)
    for lane in model.scenario.lanes:
        for segment in model.segments:
            t = sum(solution.value(model.lp.columns[c].key)
                    for c, _, _ in model.flow_cols(lane, segment.index))  # fmt: skip
            for port in lane.via:
                through[port] += t
    found = []
    for name, t in sorted(through.items(), key=lambda i: -i[1]):
        hub = model.scenario.ports[name]
        cap = hub.capacity_t
        if t > EPSILON_T:
            total = None if cap is None else cap + model.extra_capacity.get(name, 0.0)
            found.append(Hub(name, hub.country, t, total))
    return tuple(found)


def _unreachable(
    scenario: Scenario,
    spec: CorridorSpec,
    enabled: frozenset[str],
    layers: Layers,
    allowance: Mapping[tuple[str, str, int], float],
) -> ValidationError:
    """Why no plan meets the targets: build every option, make the targets soft, and say
    how far the best plan gets."""
    extra: dict[str, float] = defaultdict(float)
    for site, steps in _largest_steps(spec.options).items():
        extra[site] += steps
    model = Model(
        scenario,
        segments(scenario.year, scenario.shocks),
        scenario.shocks,
        layers=layers,
        extra_capacity=extra,
    ).build(shortage_allowance=allowance)
    add_target_rows(model, spec.targets, soft=True)
    add_policy_rows(model, spec, enabled)
    solution = model.lp.solve()
    if solution.status != OPTIMAL:
        return ValidationError(
            "corridor-infeasible",
            "constraints",
            "the switched-on constraints cannot hold together even with every option built; "
            "switch one off (--disable) and retry",
        )
    parts = [f"target {t.id} needs {t.required_t:,.1f} t/y, at most {t.achieved_t:,.1f} t/y "
             "can be reached" for t in _targets(model, solution)
             if t.achieved_t < t.required_t - 1e-6]  # fmt: skip
    from raretrace.analytics.scenario_explain import _binding_names

    binding = _binding_names(model, solution)
    why = f" (with every option built, binding: {', '.join(binding)})" if binding else ""
    return ValidationError(
        "corridor-infeasible", "targets",
        f"no plan meets the targets: {'; '.join(parts) or 'the constraints conflict'}{why}; "
        "lower a target, add options, or switch a constraint off",
    )  # fmt: skip


def _largest_steps(options: Iterable[Option]) -> dict[str, float]:
    largest: dict[str, float] = {}
    for option in options:
        largest[option.site] = max(largest.get(option.site, 0.0), option.capacity_t)
    return largest


def failures_to_try(scenario: Scenario) -> list[tuple[str, str, frozenset[str]]]:
    """Every single plant, port and country, with the sites each takes out."""
    found = [("facility", f, frozenset({f})) for f in sorted(scenario.facilities)]
    found += [("port", p, frozenset({p})) for p in sorted(scenario.ports)]
    by_country: dict[str, set[str]] = defaultdict(set)
    for node in [*scenario.facilities, *scenario.ports]:
        by_country[scenario.country_of(node)].add(node)
    found += [("country", c, frozenset(n)) for c, n in sorted(by_country.items())]
    return found


def _resilience(
    scenario: Scenario,
    spec: CorridorSpec,
    enabled: frozenset[str],
    layers: Layers,
    allowance: Mapping[tuple[str, str, int], float],
    extra: Mapping[str, float],
) -> tuple[Failure, ...]:
    found = []
    for kind, ident, removed in failures_to_try(scenario):
        model = Model(scenario, segments(scenario.year, scenario.shocks), scenario.shocks,
                      layers=layers, extra_capacity=extra, removed=removed)  # fmt: skip
        model.build(shortage_allowance=allowance)
        add_target_rows(model, spec.targets, soft=True)
        add_policy_rows(model, spec, enabled)
        solution = model.lp.solve()
        if solution.status != OPTIMAL:
            raise explain_failure(model, solution.status, "corridor")
        targets = _targets(model, solution)
        required = sum(t.required_t for t in targets)
        short = sum(max(0.0, t.required_t - t.achieved_t) for t in targets)
        other = sum(v for k, v in solution.values.items()
                    if isinstance(k, tuple) and k[0] == "excess-short")  # fmt: skip
        found.append(Failure(kind, ident, _clean(short), required, _clean(other)))
    return tuple(sorted(found, key=lambda f: (-f.target_shortfall_t, f.kind, f.id)))


def _clean(t: float) -> float:
    return 0.0 if abs(t) < EPSILON_T else t


__all__ = ["CorridorReport", "plan_corridor"]
