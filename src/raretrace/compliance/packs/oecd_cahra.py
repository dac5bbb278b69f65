"""oecd-cahra: the OECD Due Diligence Guidance for minerals from conflict-affected and
high-risk areas (3rd ed. 2016). A share of the lot from a mine flagged ``cahra`` calls for
enhanced due diligence (Annex II risks): ``needs-evidence``, unless every extraction from such
a mine is covered by an accredited audit of that mine against ``oecd-ddg`` with result pass or
conditional, valid on the extraction date (then ``pass`` citing the audits).
"""

from __future__ import annotations

from raretrace.compliance.audits import covering_audit
from raretrace.compliance.context import CheckContext, pct
from raretrace.compliance.evidence import NOISE, Extraction
from raretrace.compliance.facts import Facts
from raretrace.compliance.result import NEEDS_EVIDENCE, PASS, CheckResult
from raretrace.domain.licensing import Audit

PACK = "oecd-cahra"


def check(ctx: CheckContext, facts: Facts) -> list[CheckResult]:
    """One result: the share from CAHRA mines and whether due diligence evidence covers it."""
    rule, ev = facts.text("rule"), ctx.evidence
    mines = sorted({x.facility for x in ev.extractions if x.cahra})
    total = sum(ev.elements_kg.get(e, 0.0) for e in ev.by_mine)
    shares = {
        m: sum(ev.elements_kg.get(e, 0.0) * s.get(m, 0.0) for e, s in ev.by_mine.items())
        / total if total > 0 else 0.0
        for m in mines
    }  # fmt: skip
    mines = [m for m in mines if shares[m] > NOISE]
    if not mines:
        return [CheckResult(
            PACK, rule, PASS, f"no share of lot {ev.lot!r} comes from a mine flagged CAHRA",
            facts_reviewed=facts.reviewed,
        )]  # fmt: skip
    reasons, events, missing = [], [], []
    for mine in mines:
        per_element = ", ".join(
            f"{e} {pct(s[mine])}" for e, s in sorted(ev.by_mine.items()) if s.get(mine, 0) > NOISE
        )
        reasons.append(f"mine {mine!r} (CAHRA): {pct(shares[mine])} of the lot ({per_element})")
        for extraction in (x for x in ev.extractions if x.facility == mine):
            events.append(extraction.event)
            audit, why = _audit_for(ctx, facts, extraction)
            if audit is None:
                missing.append(extraction.event)
                reasons.append(f"extraction {extraction.event!r} on {extraction.time[:10]}: {why}")
            else:
                reasons.append(
                    f"extraction {extraction.event!r} on {extraction.time[:10]}: audit"
                    f" {audit.id!r} by {audit.auditor!r} ({audit.result}) valid then"
                )
    share = sum(shares.values())
    if missing:
        return [CheckResult(
            PACK, rule, NEEDS_EVIDENCE,
            f"{pct(share)} of lot {ev.lot!r} comes from CAHRA mine(s) {', '.join(mines)}:"
            " enhanced due diligence (Annex II risks) needs an accredited oecd-ddg audit of"
            " the mine valid on each extraction date",
            reasons=tuple(reasons), events=tuple(events), facts_reviewed=facts.reviewed,
        )]  # fmt: skip
    return [CheckResult(
        PACK, rule, PASS,
        f"{pct(share)} of lot {ev.lot!r} comes from CAHRA mine(s) {', '.join(mines)}, each"
        " extraction covered by an accredited oecd-ddg audit",
        reasons=tuple(reasons), events=tuple(events), facts_reviewed=facts.reviewed,
    )]  # fmt: skip


def _audit_for(ctx: CheckContext, facts: Facts, x: Extraction) -> tuple[Audit | None, str]:
    standard = facts.text("standard")
    found = covering_audit(
        ctx.registry, x.facility, standard, facts.strings("accepted_results"), x.time
    )
    return found.audit, "; ".join(found.notes) or f"no {standard} audit of the mine"
