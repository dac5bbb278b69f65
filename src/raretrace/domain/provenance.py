"""Origin shares, routes, claims and paths: how provenance starts at a source and mixes.

This is the mass-balance chain-of-custody model (ISO 22095 §5.5): a transformation's outputs
share, per element, the weighted mix of its inputs' origins, weighted by the mass of that
element each input contributed. The same weights mix each element's routes (the sequences of
processing steps its mass went through) and the shares already claimed under each scheme.
Shares of one element's origins, and of its routes, always sum to 1.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from raretrace.domain.elements import CONSERVED
from raretrace.domain.model import (
    RECYCLED,
    UNATTRIBUTED,
    Claimed,
    Facility,
    PathStep,
    Provenance,
    Routes,
    RouteShare,
    RouteStep,
    Shares,
)

#: Transform processes that add their own stage as a step; ``other`` adds the facility's
#: processing stage, ``split`` and ``merge`` (bookkeeping) add none.
PROCESS_STEPS = frozenset({"separation", "reduction", "alloying", "magnet", "recycling"})
WAREHOUSE = "warehouse"

#: element -> stage -> country -> share of the element's mass that went through that stage
#: in that country.
ByStage = dict[str, dict[str, dict[str, float]]]


def step_at(facility: Facility, stage: str | None = None) -> PathStep:
    """The path step for material handled at ``facility`` (its primary stage by default)."""
    return PathStep(
        stage=stage or facility.stage,
        facility=facility.id,
        country=facility.country,
        technology_origin=facility.technology_origin,
    )


def route_step(step: PathStep) -> RouteStep:
    """A path step without its facility: what a route records."""
    return RouteStep(step.stage, step.country, step.technology_origin)


def transform_stage(facility: Facility, process: str) -> str | None:
    """The stage a transform adds to routes and paths, or None for ``split`` and ``merge``.

    A named process is its own stage; ``other`` (beneficiation, cracking, leaching,
    finishing) is the facility's primary stage, or its first stage that is not ``warehouse``
    when it is registered as a warehouse first (``other`` never runs at a warehouse-only site).
    """
    if process in PROCESS_STEPS:
        return process
    if process != "other":
        return None
    return next((s for s in facility.stages if s != WAREHOUSE), facility.stage)


def at_source(
    facility: Facility, elements_kg: Mapping[str, float], *, recycled: bool, stage: str
) -> Provenance:
    """Provenance of freshly extracted material: all of it from this mine, or all recycled.

    Collected end-of-life scrap has no known mine, so it counts under ``recycled`` in both
    the by-mine and the by-country shares; its routes start with the ``recycling`` step.
    """
    mine = RECYCLED if recycled else facility.id
    country = RECYCLED if recycled else facility.country
    conserved = [e for e in elements_kg if e in CONSERVED]
    step = step_at(facility, stage)
    # One routes tuple shared by every element: later steps extend it once, not per element.
    routes = (RouteShare(1.0, (route_step(step),)),)
    return Provenance(
        by_mine={e: {mine: 1.0} for e in conserved},
        by_country={e: {country: 1.0} for e in conserved},
        path=(step,),
        routes={e: routes for e in conserved},
    )


def _mix(weighted: Iterable[tuple[float, Mapping[str, float]]]) -> dict[str, float]:
    pairs = list(weighted)
    total = math.fsum(weight for weight, _ in pairs)
    if not total > 0:
        return {}
    acc: dict[str, float] = {}
    for weight, shares in pairs:
        # Each input's share of the total first, then its sources' shares of that: every
        # product stays in [0, 1], so the tiniest weights (even subnormal kg) keep the
        # precision of ordinary floats, and the shares still sum to 1.
        part = weight / total
        for source, share in shares.items():
            acc[source] = acc.get(source, 0.0) + part * share
    return acc


def mix(
    contributions: Sequence[tuple[Mapping[str, float], Provenance]],
    wanted: Iterable[str],
) -> tuple[Shares, Shares]:
    """Per element in ``wanted``, the origin shares of a mix of inputs.

    ``contributions`` pairs each input's consumed element masses with its provenance; each
    input's shares of element e are weighted by the kg of e it contributed.
    """
    by_mine: Shares = {}
    by_country: Shares = {}
    single = contributions[0][1] if len(contributions) == 1 else None
    for e in wanted:
        if e not in CONSERVED:
            continue
        if single is not None and e in single.by_mine:
            # One input (a split, a single-feed process): its shares pass through unchanged.
            by_mine[e], by_country[e] = single.by_mine[e], single.by_country[e]
            continue
        parts = [(kg[e], p) for kg, p in contributions if kg.get(e, 0.0) > 0]
        mine = _mix((w, p.by_mine.get(e, {})) for w, p in parts)
        if mine:
            by_mine[e] = mine
            by_country[e] = _mix((w, p.by_country.get(e, {})) for w, p in parts)
        else:
            # Up to the tolerance of an element may appear that no input holds (rounding in
            # a lab assay); its origin is unknown, and saying so keeps shares summing to 1.
            by_mine[e] = by_country[e] = {UNATTRIBUTED: 1.0}
    return by_mine, by_country


_UNKNOWN_ROUTE = (RouteShare(1.0, ()),)


class _Extender:
    """Appends one step to routes, remembering each routes tuple it has already extended
    (the elements of a lot usually share one), so a step costs once per distinct tuple."""

    def __init__(self, step: RouteStep | None) -> None:
        self.step = step
        self._done: dict[int, tuple[tuple[RouteShare, ...], tuple[RouteShare, ...]]] = {}

    def __call__(self, routes: tuple[RouteShare, ...]) -> tuple[RouteShare, ...]:
        if self.step is None:
            return routes
        done = self._done.get(id(routes))
        if done is not None and done[0] is routes:
            return done[1]
        out = _merged((_then(r.steps, self.step), r.share) for r in routes)
        self._done[id(routes)] = (routes, out)
        return out


def _then(steps: tuple[RouteStep, ...], step: RouteStep) -> tuple[RouteStep, ...]:
    """``steps`` followed by ``step``; two equal consecutive steps are one."""
    return steps if steps and steps[-1] == step else (*steps, step)


def _merged(pairs: Iterable[tuple[tuple[RouteStep, ...], float]]) -> tuple[RouteShare, ...]:
    """Routes with equal steps summed into one, in first-seen order."""
    acc: dict[tuple[RouteStep, ...], float] = {}
    for steps, share in pairs:
        acc[steps] = acc.get(steps, 0.0) + share
    return tuple(RouteShare(share, steps) for steps, share in acc.items())


def mix_routes(
    contributions: Sequence[tuple[Mapping[str, float], Provenance]],
    wanted: Iterable[str],
    step: RouteStep | None,
) -> Routes:
    """Per conserved element in ``wanted``, the routes of a mix of inputs, then ``step``.

    Weighted like ``mix``: each input's routes of element e by the kg of e it contributed.
    An element no input holds (within tolerance) has one route that starts here.
    """
    extend = _Extender(step)
    single = contributions[0][1] if len(contributions) == 1 else None
    out: Routes = {}
    for e in wanted:
        if e not in CONSERVED:
            continue
        if single is not None and e in single.routes:
            out[e] = extend(single.routes[e])
            continue
        parts = [(kg[e], p.routes.get(e, ())) for kg, p in contributions if kg.get(e, 0.0) > 0]
        total = math.fsum(w for w, _ in parts)
        if not total > 0:
            out[e] = extend(_UNKNOWN_ROUTE)
            continue
        out[e] = extend(
            _merged((r.steps, w / total * r.share) for w, routes in parts for r in routes)
        )
    return out


def mix_claimed(
    contributions: Sequence[tuple[Mapping[str, float], Provenance]], wanted: Iterable[str]
) -> tuple[Claimed, dict[str, tuple[str, ...]]]:
    """Per scheme and element, the claimed share of a mix (weighted like ``mix``), and the
    claim events behind it: claims travel with the material."""
    inputs = [(kg, p) for kg, p in contributions if p.claimed]
    if not inputs:
        return {}, {}
    claimed: Claimed = {}
    claims: dict[str, tuple[str, ...]] = {}
    elements = [e for e in wanted if e in CONSERVED]
    for scheme in dict.fromkeys(s for _, p in inputs for s in p.claimed):
        shares: dict[str, float] = {}
        for e in elements:
            total = math.fsum(kg.get(e, 0.0) for kg, _ in contributions)
            part = math.fsum(
                kg.get(e, 0.0) / total * p.claimed[scheme].get(e, 0.0)
                for kg, p in inputs
                if scheme in p.claimed and kg.get(e, 0.0) > 0
            ) if total > 0 else 0.0  # fmt: skip
            if part > 0:
                shares[e] = part
        if shares:
            claimed[scheme] = shares
            ids = (i for _, p in inputs for i in p.claims.get(scheme, ()))
            claims[scheme] = tuple(dict.fromkeys(ids))
    return claimed, claims


def merge_paths(paths: Iterable[Sequence[PathStep]], step: PathStep | None) -> tuple[PathStep, ...]:
    """The ordered union of input paths, then ``step`` if any (each place listed once)."""
    seen: dict[PathStep, None] = {}
    for path in paths:
        for s in path:
            seen.setdefault(s, None)
    if step is not None:
        seen.setdefault(step, None)
    return tuple(seen)


def transformed(
    contributions: Sequence[tuple[Mapping[str, float], Provenance]],
    wanted: Sequence[str],
    facility: Facility,
    process: str,
) -> Provenance:
    """The provenance of a transform's outputs, before each is restricted to its elements."""
    stage = transform_stage(facility, process)
    step = None if stage is None else step_at(facility, stage)
    by_mine, by_country = mix(contributions, wanted)
    claimed, claims = mix_claimed(contributions, wanted)
    return Provenance(
        by_mine,
        by_country,
        merge_paths((p.path for _, p in contributions), step),
        mix_routes(contributions, wanted, None if step is None else route_step(step)),
        claimed,
        claims,
    )


def restrict(shares: Mapping[str, Any], elements_kg: Mapping[str, float]) -> Any:
    """Only the entries of elements the lot actually holds (``shares`` itself if all)."""
    kept = {e: s for e, s in shares.items() if elements_kg.get(e, 0.0) > 0}
    return shares if len(kept) == len(shares) else kept


def restricted(whole: Provenance, elements_kg: Mapping[str, float]) -> Provenance:
    """``whole`` for an output holding ``elements_kg`` (``whole`` itself if it holds all)."""
    by_mine = restrict(whole.by_mine, elements_kg)
    if by_mine is whole.by_mine and not whole.claimed:
        return whole  # outputs holding every element share one Provenance (and stored JSON)
    claimed = {s: restrict(c, elements_kg) for s, c in whole.claimed.items()}
    claimed = {s: c for s, c in claimed.items() if c}
    return Provenance(
        by_mine,
        restrict(whole.by_country, elements_kg),
        whole.path,
        restrict(whole.routes, elements_kg),
        claimed,
        {s: ids for s, ids in whole.claims.items() if s in claimed},
    )


def arrived(provenance: Provenance, facility: Facility) -> Provenance:
    """Provenance after a receipt at ``facility``: a warehouse (port, store) holding the
    material is a step; a receipt anywhere else is not (nothing was processed yet)."""
    if facility.stage != WAREHOUSE:
        return provenance
    step = step_at(facility)
    path = provenance.path if step in provenance.path else (*provenance.path, step)
    extend = _Extender(route_step(step))
    routes = {e: extend(r) for e, r in provenance.routes.items()}
    return Provenance(
        provenance.by_mine,
        provenance.by_country,
        path,
        routes,
        provenance.claimed,
        provenance.claims,
    )


def with_claim(
    provenance: Provenance, scheme: str, claimed: Mapping[str, float], claim_id: str
) -> Provenance:
    """``provenance`` with the scheme's claimed shares replaced by ``claimed``."""
    ids = provenance.claims.get(scheme, ())
    return Provenance(
        provenance.by_mine,
        provenance.by_country,
        provenance.path,
        provenance.routes,
        {**provenance.claimed, scheme: dict(claimed)},
        {**provenance.claims, scheme: (*ids, claim_id) if claim_id not in ids else ids},
    )


# --- reading routes ---------------------------------------------------------------------------


def by_stage(routes: Routes) -> ByStage:
    """Per element, stage and country: the share of the element's mass that went through
    that stage in that country.

    A route counts once for each (stage, country) it passes; a stage's shares sum to at most
    1 (the rest never went through it), except where the same mass went through one stage in
    two countries (transit through two warehouses, or re-processing), which counts in both.
    """
    out: ByStage = {}
    for element, shares in routes.items():
        stages: dict[str, dict[str, float]] = {}
        for route in shares:
            for stage, country in dict.fromkeys((s.stage, s.country) for s in route.steps):
                at = stages.setdefault(stage, {})
                at[country] = at.get(country, 0.0) + route.share
        out[element] = stages
    return out


def share_through(
    routes: Iterable[RouteShare],
    *,
    stages: Collection[str],
    countries: Collection[str] | None = None,
    technology_origins: Collection[str] | None = None,
) -> float:
    """The share of one element's routes with a step at one of ``stages`` in one of
    ``countries`` (any, if None) using technology from one of ``technology_origins`` (any)."""
    return math.fsum(
        r.share
        for r in routes
        if any(
            s.stage in stages
            and (countries is None or s.country in countries)
            and (technology_origins is None or s.technology_origin in technology_origins)
            for s in r.steps
        )
    )


# --- JSON -------------------------------------------------------------------------------------


def routes_to_json(routes: Routes) -> dict[str, list[dict[str, Any]]]:
    """Routes as ``trace --json`` shows them: per element, largest share first."""
    return {
        e: [
            {"share": r.share, "steps": [s.to_json() for s in r.steps]}
            for r in sorted(shares, key=lambda r: (-r.share, r.steps))
        ]
        for e, shares in routes.items()
    }


def to_json(p: Provenance) -> dict[str, object]:
    """The JSON form stored with a lot.

    Routes are stored as tables, since the elements of a lot mostly share their routes:
    ``steps`` (each distinct step, as [stage, country, technology_origin]), ``routes`` (each
    distinct route as indices into ``steps``) and ``shares`` (per element, [route index,
    share] pairs). ``claimed`` and ``claims`` appear only when something was claimed.
    """
    doc: dict[str, object] = {
        "by_mine": p.by_mine,
        "by_country": p.by_country,
        "path": [s.to_json() for s in p.path],
        "routes": _routes_tables(p.routes),
    }
    if p.claimed:
        doc["claimed"] = p.claimed
        doc["claims"] = {s: list(ids) for s, ids in p.claims.items()}
    return doc


def _routes_tables(routes: Routes) -> dict[str, object]:
    steps: dict[RouteStep, int] = {}
    paths: dict[tuple[RouteStep, ...], int] = {}
    shares: dict[str, list[list[float | int]]] = {}
    for e, element_routes in routes.items():
        rows: list[list[float | int]] = []
        for r in element_routes:
            index = paths.get(r.steps)
            if index is None:
                index = paths[r.steps] = len(paths)
                for s in r.steps:
                    steps.setdefault(s, len(steps))
            rows.append([index, r.share])
        shares[e] = rows
    return {
        "steps": [list(s) for s in steps],
        "routes": [[steps[s] for s in path] for path in paths],
        "shares": shares,
    }


def _routes_from_tables(doc: Mapping[str, Any]) -> Routes:
    steps = [RouteStep(*s) for s in doc["steps"]]
    paths = [tuple(steps[i] for i in path) for path in doc["routes"]]
    # Elements with the same rows share one tuple, as they did before storing.
    seen: dict[tuple[tuple[int, float], ...], tuple[RouteShare, ...]] = {}
    out: Routes = {}
    for e, rows in doc["shares"].items():
        key = tuple((i, share) for i, share in rows)
        found = seen.get(key)
        if found is None:
            found = seen[key] = tuple(RouteShare(share, paths[i]) for i, share in rows)
        out[e] = found
    return out


def from_json(doc: Mapping[str, object]) -> Provenance:
    """Inverse of ``to_json`` (a provenance stored before routes existed has none)."""
    path = doc.get("path", [])
    assert isinstance(path, list)
    routes = doc.get("routes")
    claims = doc.get("claims", {})
    assert isinstance(claims, dict)
    return Provenance(
        by_mine=doc["by_mine"],  # type: ignore[arg-type]
        by_country=doc["by_country"],  # type: ignore[arg-type]
        path=tuple(PathStep(**s) for s in path),
        routes=_routes_from_tables(routes) if isinstance(routes, Mapping) else {},
        claimed=doc.get("claimed", {}),  # type: ignore[arg-type]
        claims={s: tuple(ids) for s, ids in claims.items()},
    )
