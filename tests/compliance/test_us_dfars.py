"""us-dfars: DFARS 252.225-7052 — covered countries at reduction/alloying/magnet always, at
mine/cracking/separation from 2027-01-01; the recycled-material exception; scope."""

from __future__ import annotations

import pytest

from compliance_support import ctx, facts, magnet, registry, route, step
from raretrace.compliance.evidence import LotEvidence
from raretrace.compliance.packs import us_dfars
from raretrace.compliance.result import CheckResult


def run(evidence: LotEvidence, as_of: str) -> CheckResult:
    [result] = us_dfars.check(ctx(evidence, registry(), as_of), facts("us-dfars"))
    return result


def with_step(stage: str, country: str, share: float = 0.25) -> LotEvidence:
    clean = (step("mine", "AU"), step("separation", "MY"), step("magnet", "JP"))
    dirty = tuple(step(stage, country) if s.stage == stage else s for s in clean)
    if stage not in {s.stage for s in clean}:
        dirty = (*clean[:-1], step(stage, country), clean[-1])
    return magnet(routes={"Nd": (route(1 - share, *clean), route(share, *dirty)),
                          "Dy": (route(1.0, *clean),)})  # fmt: skip


@pytest.mark.parametrize(
    ("as_of", "status"), [("2026-12-31", "pass"), ("2027-01-01", "fail"), ("2027-01-02", "fail")]
)
@pytest.mark.parametrize("stage", ["mine", "cracking", "separation"])
def test_mined_refined_separated_from_2027(stage: str, as_of: str, status: str) -> None:
    result = run(with_step(stage, "CN"), as_of)
    assert result.status == status
    assert result.rule == "DFARS 252.225-7052(b)"
    if status == "fail":
        assert f"Nd: 25% went through {stage} in CN" in result.reasons


@pytest.mark.parametrize("as_of", ["2026-12-31", "2027-01-01", "2027-01-02"])
@pytest.mark.parametrize("stage", ["reduction", "alloying", "magnet"])
@pytest.mark.parametrize("country", ["CN", "RU", "KP", "IR"])
def test_melted_or_produced_in_a_covered_country(stage: str, country: str, as_of: str) -> None:
    assert run(with_step(stage, country), as_of).status == "fail"


def test_other_countries_and_noise_pass() -> None:
    assert run(with_step("separation", "MY"), "2027-02-01").status == "pass"
    assert run(with_step("magnet", "CN", share=1e-12), "2027-02-01").status == "pass"


def test_scope_is_magnets_holding_nd_or_sm() -> None:
    assert run(magnet(form="alloy"), "2027-02-01").status == "not-applicable"
    assert run(magnet(elements_kg={"Dy": 1.0}), "2027-02-01").status == "not-applicable"
    samarium = with_step("magnet", "CN")
    samarium = magnet(elements_kg={"Sm": 30.0}, routes={"Sm": samarium.routes["Nd"]})
    assert run(samarium, "2027-02-01").status == "fail"


def _recycled(magnet_country: str, share: float = 1.0) -> LotEvidence:
    scrap = (step("recycling", "CN"), step("alloying", "CN"), step("magnet", magnet_country))
    mined = (step("mine", "CN"), step("magnet", magnet_country))
    routes = {"Nd": (route(share, *scrap),) + ((route(1 - share, *mined),) if share < 1 else ())}
    by_mine = {"Nd": {"recycled": share, "CN-MINE": 1 - share}}
    return magnet(elements_kg={"Nd": 30.0}, routes=routes, by_mine=by_mine)


@pytest.mark.parametrize("country", ["US", "JP", "DE", "GB"])
def test_recycled_exception_passes_citing_it(country: str) -> None:
    result = run(_recycled(country), "2027-02-01")
    assert result.status == "pass"
    assert "recycled" in result.rule and "252.225-7052" in result.rule
    assert f"milled and sintered in {country}" in result.summary


def test_recycled_exception_needs_all_rees_recycled_and_a_qualifying_place() -> None:
    assert run(_recycled("CN"), "2027-02-01").status == "fail"
    assert run(_recycled("MY"), "2027-02-01").status == "fail"  # MY: not a qualifying country
    assert run(_recycled("JP", share=0.99), "2027-02-01").status == "fail"
    smco = _recycled("JP")
    smco = magnet(elements_kg={"Sm": 30.0}, routes={"Sm": smco.routes["Nd"]},
                  by_mine={"Sm": {"recycled": 1.0}})  # fmt: skip
    assert run(smco, "2027-02-01").status == "fail"  # the exception is for NdFeB only
