"""asean-esg: the council's ESG baseline (seed; ESG oversight including thorium and uranium).

§1: every facility of the lot's path held an ``operating`` licence valid at the time of each
event of the lineage there (else ``fail``), and an accredited ``asean-esg-baseline`` audit with
result pass or conditional valid then (else ``needs-evidence``). §2: every residue made in the
lineage holding Th and U above 0.05% of its mass that was shipped went to a facility holding a
``residue-storage`` licence valid when it arrived (when it left, if not yet received); else
``fail``. Names and thresholds: compliance-asean-esg.json.
"""

from __future__ import annotations

from raretrace.compliance.audits import covering_audit
from raretrace.compliance.context import CheckContext, pct
from raretrace.compliance.evidence import SiteEvent
from raretrace.compliance.facts import Facts
from raretrace.compliance.result import FAIL, NEEDS_EVIDENCE, NOT_APPLICABLE, PASS, CheckResult
from raretrace.domain.licensing import licence_standing

PACK = "asean-esg"


def check(ctx: CheckContext, facts: Facts) -> list[CheckResult]:
    """Two results: the sites (§1) and the residues (§2)."""
    return [_sites(ctx, facts), _residues(ctx, facts)]


def _sites(ctx: CheckContext, facts: Facts) -> CheckResult:
    rule, ev = facts.text("rule_sites"), ctx.evidence
    path = set(ev.path_facilities)
    events = [e for e in ev.site_events if e.facility in path]
    if not events:
        return CheckResult(
            PACK, rule, NOT_APPLICABLE, f"lot {ev.lot!r} has no events at facilities of its path",
            facts_reviewed=facts.reviewed,
        )  # fmt: skip
    unlicensed, unaudited, reasons = [], [], []
    for event in events:
        problem = _licence_problem(ctx, facts, event)
        if problem:
            unlicensed.append(event.event)
            reasons.append(problem)
        problem = _audit_problem(ctx, facts, event)
        if problem:
            unaudited.append(event.event)
            reasons.append(problem)
    ids = tuple(dict.fromkeys(e.event for e in events))
    sites = len({e.facility for e in events})
    if unlicensed:
        summary = f"{len(set(unlicensed))} event(s) at a facility without a valid operating licence"
        return CheckResult(PACK, rule, FAIL, summary, tuple(reasons), ids, facts.reviewed)
    if unaudited:
        summary = f"{len(set(unaudited))} event(s) at a facility without a valid accredited audit"
        return CheckResult(PACK, rule, NEEDS_EVIDENCE, summary, tuple(reasons), ids, facts.reviewed)
    summary = (
        f"all {sites} facilities of the path were licensed and audited at all {len(ids)} events"
    )
    return CheckResult(PACK, rule, PASS, summary, (), ids, facts.reviewed)


def _where(event: SiteEvent) -> str:
    return f"facility {event.facility!r}, {event.type} event {event.event!r} at {event.time[:19]}Z"


def _licence_problem(ctx: CheckContext, facts: Facts, event: SiteEvent) -> str | None:
    kind, notes = facts.text("operating_licence"), []
    for lic in sorted(ctx.registry.licences.values(), key=lambda x: x.id):
        if lic.kind != kind or lic.facility != event.facility:
            continue
        problem = licence_standing(lic, ctx.registry)
        if problem is None:  # its dates, or a suspension or revocation (docs/clearinghouse.md)
            problem = lic.invalid_at(event.time)
        if problem is None:
            return None
        notes.append(problem)
    found = "; ".join(notes) if notes else f"no {kind} licence registered"
    return f"{_where(event)}: no valid {kind} licence then ({found})"


def _audit_problem(ctx: CheckContext, facts: Facts, event: SiteEvent) -> str | None:
    standard = facts.text("standard")
    found = covering_audit(
        ctx.registry, event.facility, standard, facts.strings("accepted_results"), event.time
    )
    if found.audit is not None:
        return None
    why = "; ".join(found.notes) or f"no {standard} audit registered"
    return f"{_where(event)}: no valid accredited {standard} audit then ({why})"


def _residues(ctx: CheckContext, facts: Facts) -> CheckResult:
    rule, ev = facts.text("rule_residues"), ctx.evidence
    threshold = facts.number("residue_threshold_fraction")
    kind = facts.text("residue_licence")
    hot = [r for r in ev.residues if r.radioactive_fraction > threshold]
    shipped = [(r, s) for r in hot for s in r.shipments]
    if not shipped:
        why = f"no residue of the lineage above {pct(threshold)} Th+U was shipped"
        if hot:
            why += f" ({len(hot)} such residue(s) stayed where they were made)"
        return CheckResult(PACK, rule, NOT_APPLICABLE, why, facts_reviewed=facts.reviewed)
    reasons, bad = [], []
    for residue, s in shipped:
        when = s.received or s.time
        ok = [
            lic for lic in ctx.registry.licences.values()
            if lic.kind == kind and lic.facility == s.destination and lic.valid_at(when)
            and licence_standing(lic, ctx.registry) is None
        ]  # fmt: skip
        text = (
            f"residue {residue.lot!r} ({pct(residue.radioactive_fraction)} Th+U) shipped by"
            f" {s.event!r} to {s.destination!r} ({when[:10]})"
        )
        if ok:
            reasons.append(f"{text}: {kind} licence {sorted(x.id for x in ok)[0]!r}")
        else:
            bad.append(s.event)
            reasons.append(f"{text}: no valid {kind} licence there")
    events = tuple(s.event for _, s in shipped)
    if bad:
        summary = f"{len(bad)} shipment(s) of Th/U residue went to an unlicensed facility"
        return CheckResult(PACK, rule, FAIL, summary, tuple(reasons), events, facts.reviewed)
    summary = f"all {len(shipped)} shipment(s) of Th/U residue went to licensed residue stores"
    return CheckResult(PACK, rule, PASS, summary, tuple(reasons), events, facts.reviewed)
