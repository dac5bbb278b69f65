"""cn-mofcom: China's 2025 rare-earth export controls.

(a) MOFCOM/GAC Announcement No. 18 of 2025: every export from China of items holding Sm, Gd,
Tb, Dy, Lu, Sc or Y needs an export licence; no de minimis. (b) MOFCOM Announcement No. 61 of
2025, art. I(1) (China-origin REE content worth >= 0.1% of the item's value) and art. I(2)
(made abroad with Chinese REE technology), suspended by Announcement No. 70; the dates and the
suspension come from the facts file (compliance-cn-mofcom.json).
"""

from __future__ import annotations

from datetime import date

from raretrace.compliance.context import CheckContext, day, instant, pct
from raretrace.compliance.evidence import NOISE, Shipment, share_through
from raretrace.compliance.facts import Facts
from raretrace.compliance.result import FAIL, NEEDS_EVIDENCE, NOT_APPLICABLE, PASS, CheckResult
from raretrace.domain.licensing import Licence, licence_standing

PACK = "cn-mofcom"


def check(ctx: CheckContext, facts: Facts, prices: Facts) -> list[CheckResult]:
    """The pack's results: No. 18, No. 61 art. I(1) (de minimis), No. 61 art. I(2)
    (technology)."""
    return [_no18(ctx, facts), *_no61(ctx, facts, prices)]


def _result(
    facts: Facts, rule: str, status: str, summary: str, **more: tuple[str, ...]
) -> CheckResult:
    return CheckResult(PACK, rule, status, summary, facts_reviewed=facts.reviewed, **more)


# -- (a) No. 18 --------------------------------------------------------------------------------


def _no18(ctx: CheckContext, facts: Facts) -> CheckResult:
    rule = facts.text("no18.rule")
    effective = facts.date("no18.effective")
    country = facts.text("no18.exporting_country")
    controlled = frozenset(facts.strings("no18.elements"))
    regime = facts.text("no18.regime")
    exports = [
        s for s in ctx.evidence.shipments
        if s.origin_country == country and s.destination_country != country
        and s.elements & controlled and effective <= day(s.time) <= ctx.as_of
    ]  # fmt: skip
    if not exports:
        return _result(
            facts, rule, NOT_APPLICABLE,
            f"no shipment in the lineage left {country} holding {', '.join(sorted(controlled))}"
            f" on or after {effective} (up to {ctx.as_of})",
        )  # fmt: skip
    reasons, unlicensed = [], []
    for s in exports:
        licence, why = _covering(ctx, s, regime)
        held = ", ".join(sorted(s.elements & controlled))
        where = f"ship event {s.event!r} ({s.time[:10]}, {s.origin} {s.origin_country} to"
        where += f" {s.destination} {s.destination_country}, lot {s.lot!r} holding {held})"
        if licence is None:
            unlicensed.append(s.event)
            reasons.append(f"{where}: no {regime} export licence covers it{why}")
        else:
            reasons.append(f"{where}: covered by licence {licence.id!r}")
    events = tuple(s.event for s in exports)
    if unlicensed:
        return _result(
            facts, rule, FAIL,
            f"{len(unlicensed)} of {len(exports)} export(s) from {country} of controlled REEs"
            f" had no {regime} licence: {', '.join(unlicensed)}",
            reasons=tuple(reasons), events=events,
        )  # fmt: skip
    return _result(
        facts, rule, PASS, f"all {len(exports)} export(s) of controlled REEs were licensed",
        reasons=tuple(reasons), events=events,
    )  # fmt: skip


def _covering(ctx: CheckContext, s: Shipment, regime: str) -> tuple[Licence | None, str]:
    """The export licence covering shipment ``s``, or None and why candidates did not count."""
    notes = []
    for licence in sorted(ctx.registry.licences.values(), key=lambda x: x.id):
        if licence.kind != "export" or licence.regime != regime:
            continue
        named = s.event in licence.events or s.lot in licence.lots
        general = not licence.events and not licence.lots
        if not (named or (general and licence.holder == s.shipper)):
            continue
        problem = licence_standing(licence, ctx.registry)
        if problem is None and licence.holder != s.shipper:
            problem = f"licence {licence.id!r} is held by {licence.holder!r}, not the exporter"
            problem += f" {s.shipper!r}"
        if problem is None and not licence.valid_at(s.time):
            problem = f"licence {licence.id!r} was not valid on {s.time[:10]}"
        if problem is None:
            return licence, ""
        notes.append(problem)
    return None, f" ({'; '.join(notes)})" if notes else ""


# -- (b) No. 61 --------------------------------------------------------------------------------


def _no61(ctx: CheckContext, facts: Facts, prices: Facts) -> list[CheckResult]:
    rule = facts.text("no61.rule")
    de_minimis, technology = f"{rule}, art. I(1)", f"{rule}, art. I(2)"
    idle = _not_in_force(ctx.as_of, facts)
    if idle is not None:
        return [_result(facts, r, NOT_APPLICABLE, idle) for r in (de_minimis, technology)]
    home = facts.text("no61.controlling_country")
    if ctx.evidence.facility_country == home:
        why = (
            f"the lot is in {home} ({ctx.evidence.facility}); No. 61 governs exports of items"
            " made abroad, exports from China fall under No. 18"
        )
        return [_result(facts, r, NOT_APPLICABLE, why) for r in (de_minimis, technology)]
    licence = _lot_licence(ctx, facts.text("no61.regime"))
    return [
        _de_minimis(ctx, facts, prices, de_minimis, licence),
        _technology(ctx, facts, technology, licence),
    ]


def _not_in_force(as_of: date, facts: Facts) -> str | None:
    """Why No. 61 does not apply on ``as_of`` (not yet in force, or suspended), or None."""
    effective = facts.date("no61.effective")
    if as_of < effective:
        return (
            f"not in force on {as_of}: the de minimis and technology rules apply from {effective}"
        )
    for suspension in facts.items("no61.suspensions"):
        start, through = suspension.date("from"), suspension.date("through")
        if start <= as_of <= through:
            return (
                f"suspended on {as_of} by {suspension.text('by')} ({start} through {through});"
                f" the rule applies again from the day after unless a new announcement extends"
                f" the suspension"
            )
    return None


def _lot_licence(ctx: CheckContext, regime: str) -> Licence | None:
    for licence in sorted(ctx.registry.licences.values(), key=lambda x: x.id):
        general = not licence.lots and not licence.events
        covers = ctx.evidence.lot in licence.lots or (
            general and licence.holder == ctx.evidence.custodian
        )
        if (
            licence.kind == "export" and licence.regime == regime and covers
            and licence.valid_at(instant(ctx.as_of))
            and licence_standing(licence, ctx.registry) is None
        ):  # fmt: skip
            return licence
    return None


def _applied_note(ctx: CheckContext, facts: Facts) -> str:
    ends = [
        s.date("through") for s in facts.items("no61.suspensions") if s.date("through") < ctx.as_of
    ]
    if not ends:
        return ""
    return (
        f"the suspension by Announcement No. 70 ended {max(ends)} per the facts reviewed"
        f" {facts.reviewed}; the rule is applied as in force"
    )


def _de_minimis(
    ctx: CheckContext, facts: Facts, prices: Facts, rule: str, licence: Licence | None
) -> CheckResult:
    home = facts.text("no61.controlling_country")
    stages = frozenset(facts.strings("no61.origin_stages"))
    table = dict(prices.prices("prices"))
    table.update(ctx.prices or {})
    source = "--prices" if ctx.prices else f"reference prices reviewed {prices.reviewed}"
    reasons = [r for r in [_applied_note(ctx, facts)] if r]
    value, missing = 0.0, []
    for element in facts.strings("no61.elements"):
        kg = ctx.evidence.elements_kg.get(element, 0.0)
        routes = ctx.evidence.routes.get(element, ())
        share = share_through(routes, stages, frozenset({home}))
        if kg <= 0 or share <= NOISE:
            continue
        content = kg * share
        if element not in table:
            missing.append(element)
            reasons.append(f"{element}: {content:.6g} kg China-origin ({pct(share)}), no price")
            continue
        value += content * table[element]
        reasons.append(
            f"{element}: {content:.6g} kg China-origin ({pct(share)} of {kg:.6g} kg) x"
            f" {table[element]:g} USD/kg = {content * table[element]:,.2f} USD"
        )
    if value == 0 and not missing:
        return _result(facts, rule, PASS, "no China-origin REE content", reasons=tuple(reasons))
    declared = ctx.declared_value_usd
    if declared is None:
        return _result(
            facts, rule, NEEDS_EVIDENCE,
            f"China-origin REE content worth {value:,.2f} USD ({source}); the lot's declared"
            " value is needed to apply the 0.1% test: pass --declared-value-usd",
            reasons=tuple(reasons),
        )  # fmt: skip
    threshold = facts.number("no61.de_minimis_value_share") * declared
    if value < threshold and missing:
        return _result(
            facts, rule, NEEDS_EVIDENCE,
            f"China-origin content without a price: {', '.join(missing)}; pass --prices with"
            f" them (priced content {value:,.2f} USD, threshold {threshold:,.2f} USD)",
            reasons=tuple(reasons),
        )  # fmt: skip
    share_text = f"{value:,.2f} USD is {pct(value / declared) if declared else 'all'} of the"
    share_text += f" declared {declared:,.2f} USD ({source})"
    if value < threshold:
        return _result(
            facts, rule, PASS, f"China-origin REE content {share_text}: below 0.1%",
            reasons=tuple(reasons),
        )  # fmt: skip
    if licence is not None:
        return _result(
            facts, rule, PASS,
            f"China-origin REE content {share_text}: licence needed, held ({licence.id!r})",
            reasons=tuple(reasons),
        )  # fmt: skip
    return _result(
        facts, rule, FAIL,
        f"China-origin REE content {share_text}: at least 0.1%, and no"
        f" {facts.text('no61.regime')} export licence covers lot {ctx.evidence.lot!r}",
        reasons=tuple(reasons),
    )  # fmt: skip


def _technology(ctx: CheckContext, facts: Facts, rule: str, licence: Licence | None) -> CheckResult:
    home = facts.text("no61.controlling_country")
    stages = frozenset(facts.strings("no61.technology_stages"))
    found = [
        f"{element}: {stage} in {country} ran on {home} technology"
        for element, routes in sorted(ctx.evidence.routes.items())
        for stage, country in sorted(
            {
                (s.stage, s.country)
                for r in routes if r.share > NOISE
                for s in r.steps if s.stage in stages and s.technology_origin == home
            }
        )
    ]  # fmt: skip
    reasons = tuple(r for r in [_applied_note(ctx, facts), *found] if r)
    if not found:
        return _result(
            facts, rule, PASS, f"no step at {', '.join(sorted(stages))} used {home} technology",
            reasons=reasons,
        )  # fmt: skip
    if licence is not None:
        return _result(
            facts, rule, PASS,
            f"made with {home} REE technology: licence needed, held ({licence.id!r})",
            reasons=reasons,
        )  # fmt: skip
    return _result(
        facts, rule, FAIL,
        f"made with {home} REE technology and no {facts.text('no61.regime')} export licence"
        f" covers lot {ctx.evidence.lot!r}",
        reasons=reasons,
    )  # fmt: skip
