"""Why demand goes unmet, and why an LP has no optimum, in words.

An infeasible program (a ``must_meet`` demand or a corridor target out of reach) is solved
again with the hard demands made soft: what the network can deliver at most, and what binds,
is the explanation. An unbounded one (a negative cost on a way with no capacity) is solved
again with every variable capped: what runs to the cap is what is unbounded.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Protocol

from raretrace.analytics.lp import INFEASIBLE, OPTIMAL, UNBOUNDED, Solution
from raretrace.domain.errors import ValidationError

if TYPE_CHECKING:
    from raretrace.analytics.scenario_model import Model

#: Variables are capped at this many tonnes to find what runs away in an unbounded program.
RUNAWAY_T = 1e9


class _Unmet(Protocol):
    @property
    def region(self) -> str: ...
    @property
    def element(self) -> str: ...


def explain_failure(model: Model, status: str, what: str) -> ValidationError:
    """The error to raise for a model the solver could not optimise."""
    if status == UNBOUNDED:
        return ValidationError(f"{what}-unbounded", "costs", _unbounded(model))
    if status == INFEASIBLE:
        return ValidationError(f"{what}-infeasible", "demand", _infeasible(model))
    return ValidationError(
        f"{what}-unsolved", "model", "the solver stopped without an answer (numerical "
        "trouble); check for capacities or costs many orders of magnitude apart",
    )  # fmt: skip


def _infeasible(model: Model) -> str:
    from raretrace.analytics.scenario_model import Model

    hard = dict(model.hard)
    if not hard:
        return ("the constraints cannot all hold together; check the corridor's targets and "
                "constraints against the network's capacity")  # fmt: skip
    soft = Model(model.scenario, model.segments, model.shocks, layers=model.layers,
                 extra_capacity=model.extra_capacity, removed=model.removed)  # fmt: skip
    soft._demand()
    soft.hard.clear()
    _build_rest(soft)
    solution = soft.lp.solve()
    short_of = {}
    for region, element in sorted(hard):
        short = sum(solution.value(("short", region, element, s.index)) for s in soft.segments)
        gap = short - (model.demand[(region, element)] - hard[(region, element)])
        if gap > 1e-6:
            short_of[(region, element)] = gap
    need = sum(hard.values())
    got = need - sum(short_of.values())
    parts = ", ".join(f"{e} to {r} {t:,.1f} t" for (r, e), t in short_of.items())
    why = unmet_reasons(soft, [_Short(r, e, 1.0) for r, e in short_of], solution)
    limits = sorted({w.split(": ", 1)[1] for w in why})
    return (
        f"no allocation meets every must_meet demand: they need {need:,.1f} t, at most "
        f"{got:,.1f} t can be delivered (short in the best allocation: {parts or 'none'})"
        + (f"; {'; '.join(limits)}" if limits else "")
        + "; lower must_meet, add capacity, or lift a shock"
    )


def _build_rest(model: Model) -> None:
    """Build a model whose demand table is already filled (hard demands dropped)."""
    for lane in model.scenario.lanes:
        model.lanes_into.setdefault(lane.destination, []).append(lane)
    for segment in model.segments:
        model._flows(segment)
        model._facilities(segment)
        model._ports_and_lanes(segment)
        model._regions(segment, None)


class _Short:
    def __init__(self, region: str, element: str, unmet_t: float) -> None:
        self.region, self.element, self.unmet_t = region, element, unmet_t


def _unbounded(model: Model) -> str:
    solution = model.lp.solve(var_cap=RUNAWAY_T)
    if solution.status != OPTIMAL:
        return "the costs can fall without limit; check for negative costs"
    runaway = sorted({_name(c.key) for c in model.lp.columns
                      if abs(solution.value(c.key)) >= RUNAWAY_T * 0.5 and c.cost < 0})  # fmt: skip
    carried = sorted({_name(c.key) for c in model.lp.columns
                      if abs(solution.value(c.key)) >= RUNAWAY_T * 0.5})  # fmt: skip
    named = ", ".join(runaway or carried) or "a negative cost"
    return (f"the total cost falls without limit: {named} has a negative cost and nothing "
            f"limits how much moves that way ({', '.join(carried[:6])} unlimited); give a "
            "capacity on that way or a cost of 0 or more")  # fmt: skip


def _name(key: Hashable) -> str:
    assert isinstance(key, tuple)
    kind = key[0]
    if kind == "flow":
        return f"lane {key[1]}"
    if kind == "make":
        return f"source {key[1]}"
    return f"{kind} {key[1]}"


def unmet_reasons(
    model: Model, unmet: Sequence[_Unmet], solution: Solution | None = None
) -> tuple[str, ...]:
    """For each unmet (region, element): no way from any source, or what binds."""
    reasons = []
    binding: list[str] = []
    if solution is not None and solution.status == OPTIMAL:
        binding = _binding_names(model, solution)
    for item in unmet:
        if not _reachable(model, item.element, item.region):
            reasons.append(
                f"{item.element} to {item.region}: no source of {item.element} is connected "
                "to it by lanes that carry it and are open (bans and removed sites cut lanes)"
            )
        elif binding:
            reasons.append(f"{item.element} to {item.region}: limited by {', '.join(binding)}")
    return tuple(reasons)


def _binding_names(model: Model, solution: Solution) -> list[str]:
    """The capacities whose dual says more of them would mean less unmet demand, most
    valuable first."""
    worth: dict[str, float] = {}
    for kind, ident, s in model.capacity_rows:
        dual = solution.duals.get(("cap", kind, ident, s), 0.0) * model.segments[s].weight
        if dual < -1e-9:
            name = f"{kind} {ident}"
            worth[name] = worth.get(name, 0.0) + dual
    return sorted(worth, key=lambda n: worth[n])[:5]


def _reachable(model: Model, element: str, region: str) -> bool:
    """Whether some source of ``element`` reaches ``region`` through lanes with a flow
    variable for it (not banned, not removed) in some segment."""
    scenario = model.scenario
    open_lanes = [
        lane for lane in scenario.lanes
        if any(model.lp.index.get(("flow", lane.id, element, layer, s.index)) is not None
               for layer in model.layers.names for s in model.segments)
    ]  # fmt: skip
    starts = [f.id for f in scenario.facilities.values()
              if f.composition and f.composition.get(element, 0.0) > 0]  # fmt: skip
    seen, queue = set(starts), deque(starts)
    while queue:
        node = queue.popleft()
        if node == region:
            return True
        for lane in open_lanes:
            if lane.origin == node and lane.destination not in seen:
                seen.add(lane.destination)
                queue.append(lane.destination)
    return False
