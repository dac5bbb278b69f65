"""asean-esg: licensed and audited at every facility of the path at each event; Th/U residues
shipped only to licensed residue stores."""

from __future__ import annotations

import dataclasses

import pytest

from compliance_support import audit, ctx, facts, magnet, operating_licence, registry, shipment, t
from raretrace.compliance.evidence import LotEvidence, Residue, SiteEvent
from raretrace.compliance.packs import asean_esg
from raretrace.compliance.result import CheckResult
from raretrace.domain.licensing import Licence

EVENT_TIME = t("2026-03-01", "12:00:00")


def lot(**changes: object) -> LotEvidence:
    base = magnet(
        path_facilities=("JP-MAG",),
        site_events=(SiteEvent("tr-1", "transform", EVENT_TIME, "JP-MAG"),
                     SiteEvent("rc-9", "receive", EVENT_TIME, "NOT-ON-PATH")),
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def run(evidence: LotEvidence, *records: object) -> dict[str, CheckResult]:
    results = asean_esg.check(ctx(evidence, registry(*records), "2026-06-01"), facts("asean-esg"))
    return {"sites" if "§1" in r.rule else "residues": r for r in results}


GOOD_AUDIT = audit("JP-MAG", "asean-esg-baseline", t("2026-01-01"), t("2027-01-01"))


@pytest.mark.parametrize(
    ("until", "status"),
    [
        (t("2026-03-01", "12:00:00"), "fail"),  # expired at the event's moment
        ("2026-03-01T12:00:00.000001Z", "pass"),
        (t("2026-03-02"), "pass"),
    ],
)
def test_an_operating_licence_valid_at_each_event(until: str, status: str) -> None:
    licence = operating_licence("JP-MAG", t("2025-01-01"), until)
    result = run(lot(), licence, GOOD_AUDIT)["sites"]
    assert result.status == status
    if status == "fail":
        [reason] = result.reasons
        assert "facility 'JP-MAG', transform event 'tr-1' at 2026-03-01T12:00:00Z" in reason
        assert "licence 'OP-JP-MAG' valid 2025-01-01 to 2026-03-01" in reason
        assert result.events == ("tr-1",)


def test_no_licence_fails_and_a_licence_without_authority_does_not_count() -> None:
    assert run(lot(), GOOD_AUDIT)["sites"].status == "fail"
    rogue = operating_licence("JP-MAG", t("2025-01-01"), None, authority="jp-mag")
    result = run(lot(), rogue, GOOD_AUDIT)["sites"]
    assert result.status == "fail" and "'authority' role" in result.reasons[0]


def test_a_missing_or_failed_audit_needs_evidence() -> None:
    licence = operating_licence("JP-MAG", t("2025-01-01"), None)
    assert run(lot(), licence)["sites"].status == "needs-evidence"
    failed = dataclasses.replace(GOOD_AUDIT, result="fail")
    assert run(lot(), licence, failed)["sites"].status == "needs-evidence"
    assert run(lot(), licence, GOOD_AUDIT)["sites"].status == "pass"


def _residue(th_kg: float, *shipments: object) -> LotEvidence:
    return lot(residues=(Residue("RES-1", "tr-1", 1000.0, th_kg, 0.0, tuple(shipments)),))  # type: ignore[arg-type]


STORE_LICENCE = Licence("RS-1", "jp-mag", "residue-storage", "aelb-my", t("2025-01-01"), None,
                        facility="MY-STORE")  # fmt: skip


@pytest.mark.parametrize(
    ("th_kg", "status"),
    [(0.49, "not-applicable"), (0.5, "not-applicable"), (0.51, "fail")],  # 0.05% of 1000 kg
)
def test_residues_above_the_threshold_must_go_to_licensed_stores(th_kg: float, status: str) -> None:
    sent = shipment("s-res", "2026-02-01", origin="JP-MAG", to="MY-STORE", to_country="MY")
    assert run(_residue(th_kg, sent))["residues"].status == status


def test_th_and_u_count_together_and_a_licensed_store_passes() -> None:
    sent = shipment("s-res", "2026-02-01", origin="JP-MAG", to="MY-STORE", to_country="MY")
    both = lot(residues=(Residue("RES-1", "tr-1", 1000.0, 0.3, 0.3, (sent,)),))
    assert run(both)["residues"].status == "fail"
    result = run(both, STORE_LICENCE)["residues"]
    assert result.status == "pass" and "RS-1" in result.reasons[0]
    late = dataclasses.replace(STORE_LICENCE, valid_from=t("2026-02-02"))
    assert run(both, late)["residues"].status == "fail"
    received = dataclasses.replace(sent, received=t("2026-02-03"))
    both = lot(residues=(Residue("RES-1", "tr-1", 1000.0, 0.3, 0.3, (received,)),))
    assert run(both, late)["residues"].status == "pass"  # valid when it arrived


def test_an_unshipped_residue_is_not_applicable() -> None:
    result = run(_residue(10.0))["residues"]
    assert result.status == "not-applicable" and "stayed where they were made" in result.summary
