"""The corridor's rows on top of the allocation LP: targets (hard in the plan, soft with a
priced slack when measuring a failure) and the constraints a user switches on.

- US defence: a layer of its own for material bound for that market, with no flow into or
  out of a facility in an excluded country (``scenario_model.Layers``; DFARS 252.225-7052
  restricts where magnet material for US defence is mined, processed and made).
- EU single country: for EU-bound material, per element and stage, no third country does
  more than ``max_share`` (65%) of the stage's output (Regulation (EU) 2024/1252, Art.
  5(1)(b)).
- Recycled floor: recycled input at least ``share`` of the element content delivered to the
  regions in scope.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from raretrace.analytics.network import (
    EU_SINGLE_COUNTRY,
    RECYCLED_FLOOR,
    CorridorSpec,
    Target,
)
from raretrace.analytics.scenario_model import Model
from raretrace.domain.model import STAGES

#: A target's slack costs this many times the shortage cost: in a failure the targets are
#: served before other demand gets back to its baseline.
TARGET_PRIORITY = 2.0


def target_rows(
    model: Model, targets: Iterable[Target]
) -> Iterator[tuple[Target, float, list[tuple[int, float]], float]]:
    """Per target: (target, required t/y, achieved = offset + Σ sign·x as (column, sign)
    pairs, offset)."""
    for target in targets:
        if target.region:
            demand = {e: d for (r, e), d in model.demand.items() if r == target.region}
            cols = [(model.lp.index[("short", target.region, e, s.index)], -1.0)
                    for e in demand for s in model.segments]  # fmt: skip
            total = sum(demand.values())
            yield target, target.share * total, cols, total
        else:
            cols = [(c, 1.0) for f in _facilities_at(model, target.stage, target.countries)
                    for c in model.output_cols(f)]  # fmt: skip
            yield target, target.t, cols, 0.0


def _facilities_at(model: Model, stage: str, countries: Iterable[str]) -> list[str]:
    wanted = set(countries)
    return [f.id for f in model.scenario.facilities.values()
            if stage in f.stages and f.country in wanted]  # fmt: skip


def add_target_rows(model: Model, targets: Iterable[Target], *, soft: bool) -> None:
    """Require every target (``soft``: allow a shortfall at TARGET_PRIORITY × the shortage
    cost a tonne)."""
    lp, penalty = model.lp, TARGET_PRIORITY * model.scenario.shortage_cost_usd_per_t
    for target in targets:
        if target.region:
            for (region, element), need in model.demand.items():
                if region != target.region:
                    continue
                for s in model.segments:
                    short = lp.index[("short", region, element, s.index)]
                    coefs = {short: 1.0}
                    if soft:
                        key = ("target-slack", target.id, element, s.index)
                        coefs[lp.var(key, cost=penalty)] = -1.0
                    lp.constrain(("target", target.id, element, s.index), coefs,
                                 upper=(1.0 - target.share) * need * s.weight)  # fmt: skip
            continue
        cols = [c for f in _facilities_at(model, target.stage, target.countries)
                for c in model.output_cols(f)]  # fmt: skip
        coefs = dict.fromkeys(cols, 1.0)
        if soft:
            coefs[lp.var(("target-slack", target.id), cost=penalty)] = 1.0
        lp.constrain(("target", target.id), coefs, lower=target.t)


def add_policy_rows(model: Model, spec: CorridorSpec, enabled: frozenset[str]) -> None:
    """The EU single-country limit and the recycled floor, where switched on (the US
    defence exclusion is in the layers)."""
    if EU_SINGLE_COUNTRY in enabled:
        _eu_rows(model, spec)
    if RECYCLED_FLOOR in enabled:
        _recycled_row(model, spec)


def _eu_rows(model: Model, spec: CorridorSpec) -> None:
    scenario, layer = model.scenario, spec.eu_region
    home = set(scenario.regions[spec.eu_region].countries)
    for element in scenario.elements:
        for stage in STAGES:
            by_country: dict[str, list[int]] = defaultdict(list)
            for facility in scenario.facilities.values():
                if stage in facility.stages:
                    by_country[facility.country] += model.output_cols(facility.id, element, layer)
            every = [c for cols in by_country.values() for c in cols]
            for country, cols in sorted(by_country.items()):
                if country in home or not cols:
                    continue
                coefs = dict.fromkeys(every, -spec.eu_max_share)
                for c in cols:
                    coefs[c] += 1.0
                model.lp.constrain(("eu-share", element, stage, country), coefs, upper=0.0)


def _recycled_row(model: Model, spec: CorridorSpec) -> None:
    scenario = model.scenario
    scope = set(spec.recycled_regions) or {r for r, _ in model.demand}
    coefs: dict[int, float] = {}
    for facility in scenario.facilities.values():
        if "recycling" in facility.stages:
            for c in model.output_cols(facility.id):
                coefs[c] = 1.0
    need = 0.0
    for (region, element), amount in model.demand.items():
        if region in scope:
            need += amount
            for s in model.segments:
                coefs[model.lp.index[("short", region, element, s.index)]] = spec.recycled_share
    model.lp.constrain(("recycled-floor",), coefs, lower=spec.recycled_share * need)
