"""oecd-cahra: a share from a CAHRA mine needs evidence unless an accredited oecd-ddg audit of
the mine (pass or conditional) was valid on each extraction date."""

from __future__ import annotations

import pytest

from compliance_support import audit, ctx, facts, magnet, registry, t
from raretrace.compliance.evidence import Extraction, LotEvidence
from raretrace.compliance.packs import oecd_cahra
from raretrace.compliance.result import CheckResult
from raretrace.domain.model import Participant

KACHIN = Extraction("x-1", t("2025-03-10", "08:00:00"), "MM-KACHIN", "MM", cahra=True)


def cahra_lot() -> LotEvidence:
    return magnet(
        by_mine={"Nd": {"AU-MINE": 1.0}, "Dy": {"MM-KACHIN": 0.6, "AU-MINE": 0.4}},
        extractions=(KACHIN, Extraction("x-2", t("2025-01-01"), "AU-MINE", "AU", cahra=False)),
    )


def run(evidence: LotEvidence, *records: object) -> CheckResult:
    [result] = oecd_cahra.check(
        ctx(evidence, registry(*records), "2026-01-01"), facts("oecd-cahra")
    )
    return result


def test_no_cahra_share_passes() -> None:
    assert run(magnet()).status == "pass"


def test_a_cahra_share_needs_evidence_and_reports_the_share() -> None:
    result = run(cahra_lot())
    assert result.status == "needs-evidence"
    # 0.6 x 1 kg of 31 kg of REEs
    assert "1.935% of lot 'MAG-1'" in result.summary
    assert "mine 'MM-KACHIN' (CAHRA): 1.935% of the lot (Dy 60%)" in result.reasons
    assert result.events == ("x-1",)


@pytest.mark.parametrize(
    ("start", "end", "status"),
    [
        (t("2025-03-10", "08:00:00"), t("2026-01-01"), "pass"),  # from the extraction's moment
        (t("2025-03-10", "08:00:01"), t("2026-01-01"), "needs-evidence"),  # a second late
        (t("2024-03-10"), t("2025-03-10", "08:00:00"), "needs-evidence"),  # ended at it
        (t("2024-03-10"), t("2025-03-10", "08:00:01"), "pass"),
    ],
)
def test_audit_valid_on_the_extraction_date(start: str, end: str, status: str) -> None:
    assert run(cahra_lot(), audit("MM-KACHIN", "oecd-ddg", start, end)).status == status


def test_audits_that_do_not_count() -> None:
    period = (t("2025-01-01"), t("2026-01-01"))
    failed = run(cahra_lot(), audit("MM-KACHIN", "oecd-ddg", *period, result="fail"))
    assert failed.status == "needs-evidence" and any(
        "result is 'fail'" in r for r in failed.reasons
    )
    conditional = run(cahra_lot(), audit("MM-KACHIN", "oecd-ddg", *period, result="conditional"))
    assert conditional.status == "pass"
    other = run(cahra_lot(), audit("MM-KACHIN", "asean-esg-baseline", *period))
    assert other.status == "needs-evidence"
    rogue = run(cahra_lot(), Participant("rogue", "R", "MM", roles=("auditor",)),
                audit("MM-KACHIN", "oecd-ddg", *period, auditor="rogue"))  # fmt: skip
    assert rogue.status == "needs-evidence"
    assert any("held no accreditation for 'oecd-ddg'" in r for r in rogue.reasons)
