"""eu-crma: per strategic REE and stage, kg-weighted country shares; a single third country
above 65% fails a portfolio; on one lot the shares are information."""

from __future__ import annotations

from compliance_support import ctx, facts, magnet, registry, route, step
from raretrace.compliance.evidence import LotEvidence
from raretrace.compliance.packs import eu_crma


def lot(share_cn: float, kg: float = 10.0, recycled: float = 0.0) -> LotEvidence:
    cn = (step("mine", "CN"), step("separation", "CN"), step("magnet", "DE"))
    au = (step("mine", "AU"), step("separation", "EE"), step("magnet", "DE"))
    routes = {"Nd": (route(share_cn, *cn), route(1 - share_cn, *au))}
    return magnet(elements_kg={"Nd": kg}, routes=routes,
                  by_mine={"Nd": {"recycled": recycled, "X": 1 - recycled}})  # fmt: skip


def test_single_lot_reports_shares_as_information() -> None:
    [result] = eu_crma.check(ctx(lot(0.8), registry(), "2026-01-01"), facts("eu-crma"))
    assert result.status == "not-applicable"
    assert "Nd separation: CN 80%, EE 20%" in result.reasons
    assert "one third country holds more than 65% at 2 element-stage(s)" in result.summary
    assert result.rule == "Regulation (EU) 2024/1252 Art. 5(1)(b)"


def test_portfolio_is_mass_weighted_and_member_states_never_breach() -> None:
    f = facts("eu-crma")
    # 10 kg at 80% CN and 10 kg at 50% CN: 65% exactly -> not above the limit.
    assert eu_crma.portfolio_result([lot(0.8), lot(0.5)], f, ["A", "B"]).status == "pass"
    result = eu_crma.portfolio_result([lot(0.8, kg=30.0), lot(0.5)], f, ["A", "B"])
    assert result.status == "fail"
    assert "Nd mine: CN 72.5% > 65%" in result.summary
    assert "Nd magnet" not in result.summary  # 100% DE: a member state


def test_recycled_share_against_the_benchmark() -> None:
    _, reasons = eu_crma.assess([lot(0.0, recycled=0.3), lot(0.0, recycled=0.1)], facts("eu-crma"))
    assert "recycled share of strategic REEs 20% (benchmark 25%)" in reasons
