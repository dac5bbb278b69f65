"""Concentration of each stage's output by country: per element and stage, the kg of the
element in the outputs of that stage's events (extractions at mines for ``mine``; transforms
for the processing stages, ``recycling`` included), by the country of the facility, with the
shares, the Herfindahl–Hirschman index, the largest country against the 65% limit of
Regulation (EU) 2024/1252 Art. 5(1)(b), ASEAN's share, the recycled share against the 25%
benchmark, and the world beside it (USGS).

What went through each stage counts, not what facilities could do (registered capacity is
not used). Pure: events come in as parsed JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from raretrace.analytics.indices import Concentration, concentration
from raretrace.analytics.period import Period
from raretrace.analytics.world import WorldSupply
from raretrace.domain.elements import CONSERVED, ELEMENT_ORDER, OXIDE_FACTOR, RARE_EARTHS
from raretrace.domain.model import STAGES, Facility
from raretrace.domain.provenance import transform_stage

__all__ = [
    "LIMIT",
    "RECYCLING_BENCHMARK",
    "ConcentrationReport",
    "StageOutputs",
    "concentration_report",
    "stage_of",
]

#: Art. 5(1)(b): no single third country above 65% at any relevant stage.
LIMIT = 0.65
#: Art. 5(1)(a)(iii): recycling capacity for at least 25% of annual consumption.
RECYCLING_BENCHMARK = 0.25
MINE, RECYCLING = "mine", "recycling"
_STAGE_ORDER = {s: i for i, s in enumerate(STAGES)}
_DAYS_PER_YEAR = 365.25


def stage_of(facility: Facility, event: Mapping[str, Any]) -> str | None:
    """The stage an extract or transform's outputs count under, or None when they are not
    stage output: collected scrap (extract at a recycler), ``split`` and ``merge``
    (bookkeeping), and processing at a mine (beneficiation: the mine's output is its ore,
    counted once)."""
    if event["type"] == "extract":
        return MINE if MINE in facility.stages else None
    stage = transform_stage(facility, event["process"])
    return None if stage == MINE else stage


@dataclass(slots=True)
class StageOutputs:
    """kg by (bucket, element, stage, country), and with ``participants`` the actors behind
    each cell. Feed extract and transform events (``feed``)."""

    facilities: Mapping[str, Facility]
    bucket_of: Callable[[str], str | None]
    participants: bool = False
    kg: dict[tuple[str, str, str, str], float] = field(default_factory=dict)
    actors: dict[tuple[str, str, str, str], set[str]] = field(default_factory=dict)
    unresolved: int = 0

    def feed(self, time: str, event: Mapping[str, Any]) -> None:
        bucket = self.bucket_of(time)
        facility = self.facilities.get(event.get("facility", ""))
        if bucket is None:
            return
        if facility is None:
            self.unresolved += 1
            return
        stage = stage_of(facility, event)
        if stage is None:
            return
        kg, country = self.kg, facility.country
        for out in event["outputs"]:
            for e, amount in out["elements_kg"].items():
                if e in CONSERVED and amount:
                    key = (bucket, e, stage, country)
                    kg[key] = kg.get(key, 0.0) + amount
                    if self.participants:
                        self.actors.setdefault(key, set()).add(event["actor"])


@dataclass(frozen=True, slots=True)
class ConcentrationReport:
    """``raretrace analytics concentration``."""

    period: Period
    #: element → stage → distribution by country
    elements: dict[str, dict[str, Concentration]]
    asean_share: dict[str, dict[str, float]]
    recycled: dict[str, dict[str, float]]
    world: WorldSupply
    ledger_mine_t_reo: dict[str, float]
    days: float

    @property
    def coverage(self) -> float | None:
        """The ledger's mine output (t REO a year) as a share of world production."""
        if self.days <= 0:
            return None
        yearly = sum(self.ledger_mine_t_reo.values()) * _DAYS_PER_YEAR / self.days
        return yearly / self.world.world_total_t_reo

    def to_json(self) -> dict[str, Any]:
        mine = concentration(self.ledger_mine_t_reo)
        return {
            **self.period.to_json(),
            "elements": {
                e: {s: _stage_json(c) for s, c in stages.items()}
                for e, stages in self.elements.items()
            },
            "asean_share": {
                e: {s: round(v, 6) for s, v in stages.items()}
                for e, stages in self.asean_share.items()
            },
            "recycled": {
                e: {
                    "recycled_kg": round(r["recycled_kg"], 6),
                    "mined_kg": round(r["mined_kg"], 6),
                    "share": round(r["share"], 6),
                    "below_25": r["share"] < RECYCLING_BENCHMARK,
                }
                for e, r in self.recycled.items()
            },
            "world": {
                **self.world.to_json(),
                "ledger": {
                    "days": round(self.days, 3),
                    "mine_t_reo": {
                        c: round(t, 6) for c, t in sorted(self.ledger_mine_t_reo.items())
                    },
                    "mine_t_reo_per_year": round(
                        sum(self.ledger_mine_t_reo.values()) * _DAYS_PER_YEAR / self.days, 6
                    )
                    if self.days > 0
                    else None,
                    "coverage": None if self.coverage is None else round(self.coverage, 9),
                    "hhi": round(mine.hhi, 1),
                },
            },
        }


def _stage_json(c: Concentration) -> dict[str, Any]:
    return {
        "kg": {k: round(v, 6) for k, v in c.kg.items()},
        "shares": {k: round(v, 6) for k, v in c.shares.items()},
        "hhi": round(c.hhi, 1),
        "top_country": c.top_country,
        "top_share": round(c.top_share, 6),
        "over_65": c.top_share > LIMIT,
    }


def concentration_report(
    outputs: Mapping[tuple[str, str, str, str], float],
    *,
    period: Period,
    world: WorldSupply,
    asean: Iterable[str],
    days: float,
) -> ConcentrationReport:
    """The report over every bucket of ``outputs`` (a ``StageOutputs.kg``)."""
    members = frozenset(asean)
    by: dict[str, dict[str, dict[str, float]]] = {}
    for (_, e, stage, country), kg in outputs.items():
        cell = by.setdefault(e, {}).setdefault(stage, {})
        cell[country] = cell.get(country, 0.0) + kg
    elements: dict[str, dict[str, Concentration]] = {}
    asean_share: dict[str, dict[str, float]] = {}
    recycled: dict[str, dict[str, float]] = {}
    for e in sorted(by, key=ELEMENT_ORDER.__getitem__):
        stages = {s: by[e][s] for s in sorted(by[e], key=lambda s: _STAGE_ORDER.get(s, 99))}
        elements[e] = {s: concentration(kg) for s, kg in stages.items()}
        asean_share[e] = {
            s: sum(kg for c, kg in k.items() if c in members) / total
            for s, k in stages.items()
            if (total := sum(k.values())) > 0
        }
        mined = sum(stages.get(MINE, {}).values())
        back = sum(stages.get(RECYCLING, {}).values())
        if e in RARE_EARTHS and mined + back > 0:
            recycled[e] = {"recycled_kg": back, "mined_kg": mined, "share": back / (mined + back)}
    mine_reo: dict[str, float] = {}
    for (_, e, stage, country), kg in outputs.items():
        if stage == MINE and e in RARE_EARTHS:
            mine_reo[country] = mine_reo.get(country, 0.0) + kg * OXIDE_FACTOR[e] / 1000.0
    return ConcentrationReport(period, elements, asean_share, recycled, world, mine_reo, days)
