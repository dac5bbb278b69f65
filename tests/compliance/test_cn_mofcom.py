"""cn-mofcom: Announcement No. 18 (exports from China of Sm, Gd, Tb, Dy, Lu, Sc, Y from
2025-04-04) and No. 61 (de minimis and technology prongs from 2025-12-01, suspended by No. 70
2025-11-07 through 2026-11-10), at each date edge."""

from __future__ import annotations

import pytest

from compliance_support import (
    ctx,
    export_licence,
    facts,
    magnet,
    registry,
    route,
    shipment,
    step,
)
from raretrace.compliance.packs import cn_mofcom
from raretrace.compliance.result import CheckResult
from raretrace.domain.model import Participant

PRICES = facts("prices")
NO18 = "MOFCOM/GAC Announcement No. 18 of 2025"


def run(evidence: object, reg: object, as_of: str, **more: object) -> dict[str, CheckResult]:
    results = cn_mofcom.check(ctx(evidence, reg, as_of, **more), facts("cn-mofcom"), PRICES)  # type: ignore[arg-type]
    return {r.rule: r for r in results}


def no18(day: str, *records: object, as_of: str = "2026-01-01", **ship: object) -> CheckResult:
    ev = magnet(shipments=(shipment("s-1", day, **ship),))  # type: ignore[arg-type]
    return run(ev, registry(*records), as_of)[NO18]


@pytest.mark.parametrize(
    ("day", "status"),
    [("2025-04-03", "not-applicable"), ("2025-04-04", "fail"), ("2025-04-05", "fail")],
)
def test_no18_from_its_effective_date(day: str, status: str) -> None:
    result = no18(day)
    assert result.status == status
    if status == "fail":
        assert result.events == ("s-1",)
        assert "s-1" in result.summary and "CN-MOFCOM-18" in result.summary
        assert result.facts_reviewed == facts("cn-mofcom").reviewed


def test_no18_a_covering_licence_passes_and_is_named() -> None:
    result = no18("2025-06-01", export_licence())
    assert result.status == "pass"
    assert "covered by licence 'LIC-X'" in result.reasons[0]


@pytest.mark.parametrize(
    ("licence", "why"),
    [
        (export_licence(regime="CN-MOFCOM-61"), "no CN-MOFCOM-18 export licence"),
        (export_licence(events=("s-2",)), "no CN-MOFCOM-18 export licence"),
        (export_licence(valid_until="2025-06-01T00:00:00.000000Z"), "was not valid on"),
        (export_licence(holder="jp-mag"), "not the exporter"),
        (export_licence(authority="cn-sep"), "does not hold the 'authority' role"),
    ],
    ids=["other regime", "other event", "expired that day", "other holder", "no authority"],
)
def test_no18_a_licence_that_does_not_cover_fails(licence: object, why: str) -> None:
    result = no18("2025-06-01", licence)
    assert result.status == "fail"
    assert why in result.reasons[0]


def test_no18_a_general_licence_of_the_exporter_covers_its_exports() -> None:
    assert no18("2025-06-01", export_licence(events=())).status == "pass"
    assert no18("2025-06-01", export_licence(events=(), lots=("DY-1",))).status == "pass"


def test_no18_only_exports_of_controlled_elements_count() -> None:
    assert no18("2025-06-01", elements=("Nd", "Pr")).status == "not-applicable"
    assert no18("2025-06-01", to_country="CN").status == "not-applicable"
    assert no18("2025-06-01", origin_country="MY").status == "not-applicable"
    assert no18("2025-06-01", as_of="2025-05-31").status == "not-applicable"  # not yet shipped


def _china_dy(share: float = 0.5, tech: str | None = None) -> object:
    """The magnet with ``share`` of its Dy separated in China."""
    cn = (step("mine", "CN"), step("separation", "CN"), step("magnet", "JP", tech))
    au = (step("mine", "AU"), step("separation", "MY"), step("magnet", "JP", tech))
    routes = {"Dy": (route(share, *cn), route(1 - share, *au)), "Nd": (route(1.0, *au),)}
    return magnet(routes=routes)


NO61 = "MOFCOM Announcement No. 61 of 2025, art. I(1)"
TECH = "MOFCOM Announcement No. 61 of 2025, art. I(2)"


@pytest.mark.parametrize(
    ("as_of", "status", "text"),
    [
        ("2025-11-06", "not-applicable", "not in force"),
        ("2025-11-30", "not-applicable", "not in force"),
        ("2025-12-01", "not-applicable", "suspended"),
        ("2025-12-02", "not-applicable", "suspended"),
        ("2026-11-09", "not-applicable", "suspended"),
        ("2026-11-10", "not-applicable", "suspended"),
        ("2026-11-11", "fail", "at least 0.1%"),
    ],
)
def test_no61_dates_and_the_no70_suspension(as_of: str, status: str, text: str) -> None:
    result = run(_china_dy(), registry(), as_of, declared_value_usd=1000.0)[NO61]
    assert (result.status, text in result.summary) == (status, True), result
    if status == "fail":
        assert any(
            "suspension by Announcement No. 70 ended 2026-11-10" in r for r in result.reasons
        )


@pytest.mark.parametrize(
    ("as_of", "status"),
    [("2025-11-30", "not-applicable"), ("2025-12-01", "fail"), ("2025-12-02", "fail")],
)
def test_no61_effective_date_when_the_facts_hold_no_suspension(as_of: str, status: str) -> None:
    no_suspension = facts("cn-mofcom", no61__suspensions=[])
    evidence = ctx(_china_dy(), registry(), as_of, declared_value_usd=1000.0)
    results = {r.rule: r for r in cn_mofcom.check(evidence, no_suspension, PRICES)}
    assert results[NO61].status == status


def test_no61_suspension_dates_are_data() -> None:
    extended = facts("cn-mofcom", no61__suspensions=[
        {"by": "a later announcement", "from": "2025-11-07", "through": "2027-11-10"}
    ])  # fmt: skip
    evidence = ctx(_china_dy(), registry(), "2027-02-01", declared_value_usd=1000.0)
    results = {r.rule: r for r in cn_mofcom.check(evidence, extended, PRICES)}
    assert results[NO61].status == "not-applicable"
    assert "a later announcement" in results[NO61].summary


def test_no61_de_minimis_value_against_the_declared_value() -> None:
    # 0.5 kg China-origin Dy at the reference price; the threshold is 0.1% of the declared value.
    price = PRICES.prices("prices")["Dy"]
    content = 0.5 * price
    at = run(_china_dy(), registry(), "2027-02-01", declared_value_usd=content * 1000)[NO61]
    assert at.status == "fail"  # exactly 0.1%: "0.1% or more"
    below = run(_china_dy(), registry(), "2027-02-01", declared_value_usd=content * 1001)[NO61]
    assert below.status == "pass" and "below 0.1%" in below.summary
    assert any("Dy: 0.5 kg China-origin (50% of 1 kg)" in r for r in below.reasons)


def test_no61_without_a_declared_value_needs_evidence() -> None:
    result = run(_china_dy(), registry(), "2027-02-01")[NO61]
    assert result.status == "needs-evidence"
    assert "--declared-value-usd" in result.summary


def test_no61_prices_file_replaces_the_table_and_fills_gaps() -> None:
    gd = magnet(elements_kg={"Nd": 30.0, "Gd": 2.0},
                routes={"Gd": (route(1.0, step("separation", "CN")),)})  # fmt: skip
    missing = run(gd, registry(), "2027-02-01", declared_value_usd=1e9)[NO61]
    assert missing.status == "needs-evidence" and "Gd" in missing.summary
    # 2 kg x 100 USD/kg = 200 USD: at least 0.1% of 200,000 USD, below 0.1% of 200,001 USD.
    priced = run(gd, registry(), "2027-02-01", declared_value_usd=2e5, prices={"Gd": 100.0})
    assert priced[NO61].status == "fail" and "--prices" in priced[NO61].summary
    cheaper = run(gd, registry(), "2027-02-01", declared_value_usd=2e5, prices={"Gd": 99.0})
    assert cheaper[NO61].status == "pass"


def test_no61_all_content_outside_china_passes() -> None:
    result = run(magnet(), registry(), "2027-02-01", declared_value_usd=10.0)[NO61]
    assert result.status == "pass"


def test_no61_a_licence_for_the_lot_passes_both_prongs() -> None:
    lic = export_licence(id="LIC-61", regime="CN-MOFCOM-61", holder="jp-mag", events=(),
                         lots=("MAG-1",), valid_until=None)  # fmt: skip
    results = run(_china_dy(tech="CN"), registry(lic), "2027-02-01", declared_value_usd=1000.0)
    assert results[NO61].status == "pass" and "LIC-61" in results[NO61].summary
    assert results[TECH].status == "pass" and "LIC-61" in results[TECH].summary


def test_no61_technology_prong() -> None:
    results = run(_china_dy(tech="CN"), registry(), "2027-02-01", declared_value_usd=1e12)
    assert results[TECH].status == "fail"
    assert "Dy: magnet in JP ran on CN technology" in results[TECH].reasons
    mine_only = magnet(routes={"Nd": (route(1.0, step("mine", "AU", "CN")),)})
    assert run(mine_only, registry(), "2027-02-01")[TECH].status == "pass"


def test_no61_does_not_apply_to_a_lot_in_china() -> None:
    results = run(_china_dy(), registry(), "2027-02-01", declared_value_usd=1.0)
    in_china = run(magnet(facility="CN-SEP", facility_country="CN"), registry(), "2027-02-01")
    assert results[NO61].status == "fail"
    assert {r.status for r in in_china.values() if "61" in r.rule} == {"not-applicable"}


def test_result_json_has_exactly_the_issue_fields() -> None:
    result = run(_china_dy(), registry(Participant("x", "X", "JP")), "2027-02-01")[NO61]
    assert list(result.to_json()) == [
        "pack", "rule", "status", "summary", "reasons", "events", "facts_reviewed",
    ]  # fmt: skip
