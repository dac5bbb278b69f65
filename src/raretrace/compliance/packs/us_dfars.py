"""us-dfars: DFARS 225.7018 / clause 252.225-7052 (10 U.S.C. 4872), the restriction on the
Department of Defense acquiring NdFeB and SmCo magnets melted or produced in a covered
country, and from 2027-01-01 also mined, refined or separated there; with the exception for
NdFeB magnets made from recycled material milled and sintered in the US or a qualifying
country (DFARS 225.003). Countries, stages and dates: compliance-us-dfars.json.
"""

from __future__ import annotations

from raretrace.compliance.context import CheckContext, pct
from raretrace.compliance.evidence import NOISE, LotEvidence
from raretrace.compliance.facts import Facts
from raretrace.compliance.result import FAIL, NOT_APPLICABLE, PASS, CheckResult
from raretrace.domain.elements import RARE_EARTHS

PACK = "us-dfars"


def check(ctx: CheckContext, facts: Facts) -> list[CheckResult]:
    """One result: whether the DoD may acquire the lot on the as-of date."""
    rule, ev = facts.text("rule"), ctx.evidence
    wanted = facts.strings("elements_any")
    held = [e for e in wanted if ev.elements_kg.get(e, 0.0) > 0]
    if ev.form not in facts.strings("forms") or not held:
        why = (
            f"lot {ev.lot!r} is {ev.form!r} holding {', '.join(sorted(ev.elements_kg)) or '-'};"
            f" the restriction covers {'/'.join(facts.strings('forms'))} lots holding"
            f" {' or '.join(wanted)}"
        )
        return [CheckResult(PACK, rule, NOT_APPLICABLE, why, facts_reviewed=facts.reviewed)]
    exception = _recycled_exception(ev, facts)
    if exception is not None:
        return [
            CheckResult(
                PACK, facts.text("recycled_exception.rule"), PASS, exception,
                reasons=(f"every rare earth of lot {ev.lot!r} is 100% recycled",),
                facts_reviewed=facts.reviewed,
            )
        ]  # fmt: skip
    stages = _restricted_stages(ctx, facts)
    covered = frozenset(facts.strings("covered_countries"))
    reasons = []
    for element, routes in sorted(ev.routes.items()):
        hits: dict[tuple[str, str], float] = {}
        for route in routes:
            for step in {(s.stage, s.country) for s in route.steps}:
                if step[0] in stages and step[1] in covered:
                    hits[step] = hits.get(step, 0.0) + route.share
        for (stage, country), share in sorted(hits.items()):
            if share > NOISE:
                reasons.append(f"{element}: {pct(share)} went through {stage} in {country}")
    stage_text = ", ".join(sorted(stages))
    if reasons:
        return [
            CheckResult(
                PACK, rule, FAIL,
                f"on {ctx.as_of} the DoD may not acquire lot {ev.lot!r}: material went through"
                f" {stage_text} in a covered country ({', '.join(sorted(covered))})",
                reasons=tuple(reasons), facts_reviewed=facts.reviewed,
            )
        ]  # fmt: skip
    return [
        CheckResult(
            PACK, rule, PASS,
            f"no share of lot {ev.lot!r} went through {stage_text} in a covered country"
            f" ({', '.join(sorted(covered))}) as restricted on {ctx.as_of}",
            facts_reviewed=facts.reviewed,
        )
    ]  # fmt: skip


def _restricted_stages(ctx: CheckContext, facts: Facts) -> frozenset[str]:
    """The stages restricted on the as-of date (each entry applies from its ``from`` date)."""
    stages: set[str] = set()
    for entry in facts.items("restrictions"):
        start = entry.optional_date("from")
        if start is None or start <= ctx.as_of:
            stages.update(entry.strings("stages"))
    return frozenset(stages)


def _recycled_exception(ev: LotEvidence, facts: Facts) -> str | None:
    """The exception's text when it applies: a lot holding the required elements (Nd), whose
    rare earths are all recycled, milled and sintered only in the US or qualifying countries."""
    required = facts.strings("recycled_exception.elements_required")
    if not all(ev.elements_kg.get(e, 0.0) > 0 for e in required):
        return None
    rees = [e for e in ev.routes if e in RARE_EARTHS]
    if not rees or any(ev.recycled_share(e) < 1 - NOISE for e in rees):
        return None
    allowed = frozenset(
        facts.strings("recycled_exception.domestic")
        + facts.strings("recycled_exception.qualifying_countries")
    )
    stages = frozenset(facts.strings("recycled_exception.stages"))
    places = {s.country for e in rees for r in ev.routes[e] for s in r.steps if s.stage in stages}
    if not places or not places <= allowed:
        return None
    return (
        f"made from recycled material, milled and sintered in {', '.join(sorted(places))}"
        " (the US or a DFARS 225.003 qualifying country): the restriction does not apply"
    )
