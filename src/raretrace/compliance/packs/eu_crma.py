"""eu-crma: Regulation (EU) 2024/1252 (Critical Raw Materials Act) Art. 5(1)(b): no single
third country should supply more than 65% of the Union's annual consumption of a strategic raw
material at any relevant stage of processing; recycling benchmark 25% (Art. 5(1)(a)(iii)).

The benchmark is about the Union's consumption, so it is judged on a portfolio of lots
(``portfolio``); on one lot ``check`` reports the shares as information (``not-applicable``).
Elements, member states and thresholds: compliance-eu-crma.json.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from raretrace.compliance.context import CheckContext, pct
from raretrace.compliance.evidence import LotEvidence, by_stage
from raretrace.compliance.facts import Facts
from raretrace.compliance.result import FAIL, NOT_APPLICABLE, PASS, CheckResult

PACK = "eu-crma"


@dataclass(frozen=True, slots=True)
class StageShares:
    """For one strategic element and stage: kg-weighted share per country."""

    element: str
    stage: str
    shares: dict[str, float]


def stage_shares(lots: Iterable[LotEvidence], facts: Facts) -> list[StageShares]:
    """Per strategic element and stage, each country's share of the element's mass, weighted
    by the kg of the element in each lot (a share of mass that never went through a stage
    is left out of that stage)."""
    lots = list(lots)
    out: list[StageShares] = []
    for element in facts.strings("strategic_elements"):
        total = sum(ev.elements_kg.get(element, 0.0) for ev in lots)
        if total <= 0:
            continue
        per_stage: dict[str, dict[str, float]] = {}
        for ev in lots:  # one by_stage per lot and element: a portfolio may hold thousands
            kg = ev.elements_kg.get(element, 0.0)
            for stage, countries in by_stage(ev.routes.get(element, ())).items():
                shares = per_stage.setdefault(stage, {})
                for country, share in countries.items():
                    shares[country] = shares.get(country, 0.0) + kg * share / total
        out.extend(
            StageShares(element, stage, per_stage[stage])
            for stage in facts.strings("stages")
            if per_stage.get(stage)
        )
    return out


@dataclass(frozen=True, slots=True)
class StageVerdict:
    """One element and stage of a portfolio: each country's share, and the third countries
    above the limit (``fail``) or none (``pass``)."""

    element: str
    stage: str
    shares: dict[str, float]
    above: tuple[str, ...]

    @property
    def status(self) -> str:
        return FAIL if self.above else PASS

    def to_json(self) -> dict[str, Any]:
        """As ``raretrace portfolio --json`` prints it."""
        return {"element": self.element, "stage": self.stage, "shares": self.shares,
                "status": self.status, "above": list(self.above)}  # fmt: skip


def stage_verdicts(lots: Iterable[LotEvidence], facts: Facts) -> list[StageVerdict]:
    """``stage_shares`` judged: a third country (not an EU member state) holding more than
    ``max_single_third_country`` of an element at a stage is above the limit there."""
    members = frozenset(facts.strings("member_states"))
    limit = facts.number("max_single_third_country")
    verdicts = []
    for entry in stage_shares(lots, facts):
        shares = dict(sorted(entry.shares.items(), key=lambda x: (-x[1], x[0])))
        above = tuple(sorted(c for c, s in shares.items() if c not in members and s > limit))
        verdicts.append(StageVerdict(entry.element, entry.stage, shares, above))
    return verdicts


def recycled_share(lots: Iterable[LotEvidence], facts: Facts) -> float | None:
    """The kg-weighted recycled share of the strategic elements, or None when there are none."""
    lots = list(lots)
    elements = facts.strings("strategic_elements")
    total = sum(ev.elements_kg.get(e, 0.0) for ev in lots for e in elements)
    if total <= 0:
        return None
    return (
        sum(ev.elements_kg.get(e, 0.0) * ev.recycled_share(e) for ev in lots for e in elements)
        / total
    )


def assess(lots: list[LotEvidence], facts: Facts) -> tuple[list[str], list[str]]:
    """(breaches, reasons): one breach per element and stage where one third country holds
    more than the maximum share; reasons list every element-stage's leading country."""
    members = frozenset(facts.strings("member_states"))
    limit = facts.number("max_single_third_country")
    breaches, reasons = [], []
    for entry in stage_shares(lots, facts):
        third = {c: s for c, s in entry.shares.items() if c not in members}
        shown = ", ".join(
            f"{c} {pct(s)}" for c, s in sorted(entry.shares.items(), key=lambda x: -x[1])
        )
        reasons.append(f"{entry.element} {entry.stage}: {shown}")
        for country, share in sorted(third.items()):
            if share > limit:
                breaches.append(
                    f"{entry.element} {entry.stage}: {country} {pct(share)} > {pct(limit)}"
                )
    recycled = recycled_share(lots, facts)
    if recycled is not None:
        bench = facts.number("recycling_benchmark")
        reasons.append(f"recycled share of strategic REEs {pct(recycled)} (benchmark {pct(bench)})")
    return breaches, reasons


def check(ctx: CheckContext, facts: Facts) -> list[CheckResult]:
    """On a single lot: the shares as information (``not-applicable``)."""
    breaches, reasons = assess([ctx.evidence], facts)
    note = (
        f"; on this lot alone one third country holds more than"
        f" {pct(facts.number('max_single_third_country'))} at {len(breaches)} element-stage(s)"
        if breaches
        else ""
    )
    summary = (
        "a portfolio benchmark (the Union's consumption), not a rule for one lot: see"
        f" `raretrace portfolio`{note}"
    )
    return [CheckResult(PACK, facts.text("rule"), NOT_APPLICABLE, summary, tuple(reasons),
                        facts_reviewed=facts.reviewed)]  # fmt: skip


def portfolio_result(lots: list[LotEvidence], facts: Facts, lot_ids: list[str]) -> CheckResult:
    """The benchmark on a portfolio: ``fail`` naming each element and stage above the limit."""
    breaches, reasons = assess(lots, facts)
    what = f"{len(lot_ids)} lot(s)"
    if breaches:
        return CheckResult(PACK, facts.text("rule"), FAIL,
                           f"{what}: one third country above the limit at " + "; ".join(breaches),
                           tuple(reasons), (), facts.reviewed)  # fmt: skip
    return CheckResult(PACK, facts.text("rule"), PASS,
                       f"{what}: no single third country above the limit at any stage",
                       tuple(reasons), (), facts.reviewed)  # fmt: skip
