"""Origin shares, routes, claims and paths: how provenance starts at a source and mixes.

This is the mass-balance chain-of-custody model (ISO 22095 §5.5): a transformation's outputs
share, per element, the weighted mix of its inputs' origins, weighted by the mass of that
element each input contributed. The same weights mix each element's routes (the sequences of
processing steps its mass went through) and the shares already claimed under each scheme.
Shares of one element's origins, and of its routes, always sum to 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from raretrace.domain import routes
from raretrace.domain.elements import CONSERVED
from raretrace.domain.model import (
    RECYCLED,
    UNATTRIBUTED,
    Claimed,
    Facility,
    PathStep,
    Provenance,
    RouteStep,
    RouteTable,
    Shares,
)
from raretrace.domain.routes import (
    ByStage,
    by_stage,
    routes_to_json,
    share_through,
    table_from_json,
    table_to_json,
)

__all__ = [
    "PROCESS_STEPS",
    "ByStage",
    "arrived",
    "at_source",
    "by_stage",
    "from_json",
    "merge_paths",
    "mix",
    "mix_claimed",
    "restrict",
    "restricted",
    "route_step",
    "routes_to_json",
    "share_through",
    "step_at",
    "to_json",
    "transform_stage",
    "transformed",
    "with_claim",
]

#: Transform processes that add their own stage as a step; ``other`` adds the facility's
#: processing stage, ``split`` and ``merge`` (bookkeeping) add none.
PROCESS_STEPS = frozenset({"separation", "reduction", "alloying", "magnet", "recycling"})
WAREHOUSE = "warehouse"
CONCENTRATOR = "concentrator"
_NOT_PROCESSING = frozenset({"mine", WAREHOUSE})


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

    A named process is its own stage. ``other`` (beneficiation, cracking, leaching,
    finishing) is the facility's primary processing stage: its first stage that is neither
    ``mine`` nor ``warehouse``, and ``concentrator`` at a site registered only as a mine
    (beneficiation there). ``mine`` is the extraction step alone, so that ``by_stage`` at
    ``mine`` says where material was mined (``other`` never runs at a warehouse-only site).
    """
    if process in PROCESS_STEPS:
        return process
    if process != "other":
        return None
    return next((s for s in facility.stages if s not in _NOT_PROCESSING), CONCENTRATOR)


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
    return Provenance(
        by_mine={e: {mine: 1.0} for e in conserved},
        by_country={e: {country: 1.0} for e in conserved},
        path=(step,),
        route_table=routes.source_table(route_step(step), conserved),
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
    claimed, claims = (
        mix_claimed(contributions, wanted) if any(p.claimed for _, p in contributions) else ({}, {})
    )
    return Provenance(
        by_mine,
        by_country,
        merge_paths((p.path for _, p in contributions), step),
        routes.mixed(
            [(kg, p.route_table) for kg, p in contributions],
            wanted,
            None if step is None else route_step(step),
        ),
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
    table = routes.restricted(whole.route_table, elements_kg)
    by_country = restrict(whole.by_country, elements_kg)
    if not whole.claimed:
        return Provenance(by_mine, by_country, whole.path, table)
    claimed = {s: restrict(c, elements_kg) for s, c in whole.claimed.items()}
    claimed = {s: c for s, c in claimed.items() if c}
    claims = {s: ids for s, ids in whole.claims.items() if s in claimed}
    return Provenance(by_mine, by_country, whole.path, table, claimed, claims)


def arrived(provenance: Provenance, facility: Facility) -> Provenance:
    """Provenance after a receipt at ``facility``: a warehouse (port, store) holding the
    material is a step; a receipt anywhere else is not (nothing was processed yet)."""
    if facility.stage != WAREHOUSE:
        return provenance
    step = step_at(facility)
    path = provenance.path if step in provenance.path else (*provenance.path, step)
    return Provenance(
        provenance.by_mine,
        provenance.by_country,
        path,
        routes.extended(provenance.route_table, route_step(step)),
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
        provenance.route_table,
        {**provenance.claimed, scheme: dict(claimed)},
        {**provenance.claims, scheme: (*ids, claim_id) if claim_id not in ids else ids},
    )


# --- JSON -------------------------------------------------------------------------------------


def to_json(p: Provenance) -> dict[str, object]:
    """The JSON form stored with a lot.

    ``routes`` is the route table (``routes.table_to_json``): each distinct route once as a
    list of ``[stage, country, technology_origin]`` steps, and per element its shares over
    them. ``claimed`` and ``claims`` appear only when something was claimed.
    """
    doc: dict[str, object] = {
        "by_mine": p.by_mine,
        "by_country": p.by_country,
        "path": [s.to_json() for s in p.path],
        "routes": table_to_json(p.route_table),
    }
    if p.claimed:
        doc["claimed"] = p.claimed
        doc["claims"] = {s: list(ids) for s, ids in p.claims.items()}
    return doc


def from_json(doc: Mapping[str, object]) -> Provenance:
    """Inverse of ``to_json`` (a provenance stored before routes existed has none)."""
    path = doc.get("path", [])
    assert isinstance(path, list)
    table = doc.get("routes")
    claims = doc.get("claims", {})
    assert isinstance(claims, dict)
    return Provenance(
        by_mine=doc["by_mine"],  # type: ignore[arg-type]
        by_country=doc["by_country"],  # type: ignore[arg-type]
        path=tuple(PathStep(**s) for s in path),
        route_table=table_from_json(table) if isinstance(table, Mapping) else RouteTable(),
        claimed=doc.get("claimed", {}),  # type: ignore[arg-type]
        claims={s: tuple(ids) for s, ids in claims.items()},
    )
