"""Routes: which share of each element's mass went through which sequence of processing steps.

A lot's routes are a ``RouteTable``: its distinct routes once, and per element a vector of
shares over them. Through a transform they mix like origin shares (mass balance, ISO 22095
§5.5: each input's shares of an element weighted by the kg of that element it gave up), then
the transform's step is appended to every route; a warehouse receipt appends its step too.
Appending works on the table's routes, once per route, whatever the number of elements.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from raretrace.domain.elements import CONSERVED
from raretrace.domain.model import Routes, RouteShare, RouteStep, RouteTable

Path = tuple[RouteStep, ...]
#: element -> stage -> country -> share of the element's mass that went through that stage
#: in that country.
ByStage = dict[str, dict[str, dict[str, float]]]

_ONE = (1.0,)


def source_table(step: RouteStep, elements: Iterable[str]) -> RouteTable:
    """Every element's mass on one route of one step (extraction)."""
    return RouteTable(((step,),), {e: _ONE for e in elements})


def then(steps: Path, step: RouteStep) -> Path:
    """``steps`` followed by ``step``, where a block of steps repeated back to back is one.

    Two equal consecutive steps are one step; likewise a sequence that repeats right after
    itself (material recycled through the same recycler, reduction, alloying and magnet plants
    again: ``recycling > reduction > alloying > magnet > recycling > ... > magnet``) is
    recorded once. Without this, every turn of a recycling loop makes a longer route, and the
    routes of a lot grow without bound (the demo's magnets reached 257 routes of up to 192
    steps in 200,000 events); no stage, country or technology a route passes is lost. Since
    ``steps`` has no such repeat, one can only end at ``step``, and removing it leaves a
    prefix of ``steps``, which has none either.
    """
    if step not in steps:  # the common case: a repeat must end at an earlier ``step``
        return (*steps, step)
    if steps[-1] == step:
        return steps
    out = (*steps, step)
    for size in range(2, len(out) // 2 + 1):
        if out[-size:] == out[-2 * size : -size]:
            return out[:-size]
    return out


def extended(table: RouteTable, step: RouteStep | None) -> RouteTable:
    """``table`` with ``step`` appended to every route (routes that become equal merge)."""
    if step is None or not table.paths:
        return table
    paths, plain = _appended(table.paths, step)
    if plain:  # plain appends keep distinct routes distinct: the shares stay as they are
        return RouteTable(tuple(paths), table.shares)
    return _reindexed(paths, table.shares)


def _appended(paths: Iterable[Path], step: RouteStep) -> tuple[list[Path], bool]:
    """Each path followed by ``step`` (``then``), and whether each was a plain append."""
    out = []
    plain = True
    for p in paths:
        if step in p:  # only then can a repeat collapse (see ``then``)
            q = then(p, step)
            plain = plain and len(q) == len(p) + 1
            out.append(q)
        else:
            out.append((*p, step))
    return out, plain


def _reindexed(paths: Sequence[Path], shares: Mapping[str, Sequence[float]]) -> RouteTable:
    """Routes that are equal (or unused by every element) merged or dropped."""
    index: dict[Path, int] = {}
    used = [any(v[i] > 0 for v in shares.values()) for i in range(len(paths))]
    where = [index.setdefault(p, len(index)) if used[i] else -1 for i, p in enumerate(paths)]
    out: dict[str, tuple[float, ...]] = {}
    for e, v in shares.items():
        acc = [0.0] * len(index)
        for i, s in enumerate(v):
            if s:
                acc[where[i]] += s
        out[e] = tuple(acc)
    return RouteTable(tuple(index), out)


def mixed(
    contributions: Sequence[tuple[Mapping[str, float], RouteTable]],
    wanted: Iterable[str],
    step: RouteStep | None,
) -> RouteTable:
    """The routes of a mix of inputs, for the conserved elements in ``wanted``, then ``step``.

    ``contributions`` pairs each input's consumed element masses with its routes. An element
    no input holds (within tolerance) has one route that starts here.
    """
    elements = [e for e in wanted if e in CONSERVED]
    if len(contributions) == 1 and all(e in contributions[0][1].shares for e in elements):
        return extended(contributions[0][1], step)  # a split or a single-feed process
    union: dict[Path, int] = {}
    maps = [[union.setdefault(p, len(union)) for p in t.paths] for _, t in contributions]
    vectors: dict[str, list[float]] = {}
    unknown: list[str] = []
    for e in elements:
        parts = [
            (kg[e], t.shares.get(e, ()), m)
            for (kg, t), m in zip(contributions, maps, strict=True)
            if kg.get(e, 0.0) > 0
        ]
        total = math.fsum(w for w, _, _ in parts)
        acc = vectors[e] = [0.0] * len(union)
        for w, v, m in parts:
            part = w / total
            for j, s in enumerate(v):
                if s:
                    acc[m[j]] += part * s
        if not any(acc):
            unknown.append(e)
    if unknown:
        # Up to the tolerance of an element may appear that no input holds: one route, of
        # unknown origin, that starts here.
        where = union.setdefault((), len(union))
        for e in unknown:
            vectors[e] = [0.0] * len(union)
            vectors[e][where] = 1.0
    size = len(union)
    paths, plain = (list(union), True) if step is None else _appended(union, step)
    padded = {e: v + [0.0] * (size - len(v)) for e, v in vectors.items()}
    if plain and all(any(v[i] for v in padded.values()) for i in range(size)):
        return RouteTable(tuple(paths), {e: tuple(v) for e, v in padded.items()})
    return _reindexed(paths, padded)


def restricted(table: RouteTable, elements_kg: Mapping[str, float]) -> RouteTable:
    """The routes of the elements a lot holds (``table`` itself if it holds all of them)."""
    kept = {e: v for e, v in table.shares.items() if elements_kg.get(e, 0.0) > 0}
    if len(kept) == len(table.shares):
        return table
    unused = any(not any(v[i] for v in kept.values()) for i in range(len(table.paths)))
    return _reindexed(table.paths, kept) if unused else RouteTable(table.paths, kept)


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


def routes_to_json(routes: Routes) -> dict[str, list[dict[str, Any]]]:
    """Routes as ``trace --json`` shows them: per element, largest share first."""
    return {
        e: [
            {"share": r.share, "steps": [s.to_json() for s in r.steps]}
            for r in sorted(shares, key=lambda r: (-r.share, r.steps))
        ]
        for e, shares in routes.items()
    }


# --- stored JSON ------------------------------------------------------------------------------

#: The JSON of recently stored routes, by route (a lot's routes are mostly the routes of its
#: inputs, extended): each is built once while it stays in use.
_STORED: OrderedDict[Path, list[list[str]]] = OrderedDict()
_STORED_KEPT = 65536


def _path_json(path: Path) -> list[list[str]]:
    found = _STORED.get(path)
    if found is None:
        found = _STORED[path] = [list(s) for s in path]
        if len(_STORED) > _STORED_KEPT:
            _STORED.popitem(last=False)
    return found


def table_to_json(table: RouteTable) -> dict[str, Any]:
    """``{"paths": [[[stage, country, technology_origin], ...], ...], "shares": {EL: [...]}}``."""
    return {"paths": [_path_json(p) for p in table.paths], "shares": table.shares}


def table_from_json(doc: Mapping[str, Any]) -> RouteTable:
    """Inverse of ``table_to_json``."""
    steps: dict[tuple[str, ...], RouteStep] = {}
    paths = []
    for raw in doc["paths"]:
        path = []
        for s in raw:
            key = tuple(s)
            step = steps.get(key)
            if step is None:
                step = steps[key] = RouteStep(*s)
            path.append(step)
        paths.append(tuple(path))
    return RouteTable(tuple(paths), {e: tuple(v) for e, v in doc["shares"].items()})
