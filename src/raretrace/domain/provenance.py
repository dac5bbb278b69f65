"""Origin shares and paths: how provenance starts at a source and mixes through processing.

This is the mass-balance chain-of-custody model (ISO 22095 §5.5): a transformation's outputs
share, per element, the weighted mix of its inputs' origins, weighted by the mass of that
element each input contributed. Shares of one element always sum to 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from raretrace.domain.elements import CONSERVED
from raretrace.domain.model import RECYCLED, UNATTRIBUTED, Facility, PathStep, Provenance, Shares


def step_at(facility: Facility, stage: str | None = None) -> PathStep:
    """The path step for material handled at ``facility`` (its primary stage by default)."""
    return PathStep(
        stage=stage or facility.stage,
        facility=facility.id,
        country=facility.country,
        technology_origin=facility.technology_origin,
    )


def at_source(
    facility: Facility, elements_kg: Mapping[str, float], *, recycled: bool, stage: str
) -> Provenance:
    """Provenance of freshly extracted material: all of it from this mine, or all recycled.

    Collected end-of-life scrap has no known mine, so it counts under ``recycled`` in both
    the by-mine and the by-country shares.
    """
    mine = RECYCLED if recycled else facility.id
    country = RECYCLED if recycled else facility.country
    conserved = [e for e in elements_kg if e in CONSERVED]
    return Provenance(
        by_mine={e: {mine: 1.0} for e in conserved},
        by_country={e: {country: 1.0} for e in conserved},
        path=(step_at(facility, stage),),
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


def merge_paths(paths: Iterable[Sequence[PathStep]], step: PathStep) -> tuple[PathStep, ...]:
    """The ordered union of input paths, then ``step`` (each place listed once)."""
    seen: dict[PathStep, None] = {}
    for path in paths:
        for s in path:
            seen.setdefault(s, None)
    seen.setdefault(step, None)
    return tuple(seen)


def restrict(shares: Shares, elements_kg: Mapping[str, float]) -> Shares:
    """Only the shares of elements the lot actually holds (``shares`` itself if all of them)."""
    kept = {e: s for e, s in shares.items() if elements_kg.get(e, 0.0) > 0}
    return shares if len(kept) == len(shares) else kept


def to_json(p: Provenance) -> dict[str, object]:
    """The JSON form stored with a lot and printed by ``raretrace trace``."""
    return {
        "by_mine": p.by_mine,
        "by_country": p.by_country,
        "path": [s.to_json() for s in p.path],
    }


def from_json(doc: Mapping[str, object]) -> Provenance:
    """Inverse of ``to_json``."""
    path = doc.get("path", [])
    assert isinstance(path, list)
    return Provenance(
        by_mine=doc["by_mine"],  # type: ignore[arg-type]
        by_country=doc["by_country"],  # type: ignore[arg-type]
        path=tuple(PathStep(**s) for s in path),
    )
