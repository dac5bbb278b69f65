"""The corridor MIP on a network solvable by hand: which options it builds, at what cost,
through which hub; each switchable constraint; an unreachable target explained; the
single-failure resilience table."""

from __future__ import annotations

from typing import Any

import pytest

from raretrace.analytics.corridor import plan_corridor
from raretrace.analytics.network_file import parse_scenario
from raretrace.domain.errors import ConfigError, ValidationError

APPROX = {"rel": 1e-6, "abs": 1e-6}


def network(**corridor: Any) -> dict[str, Any]:
    """A Myanmar mine feeds a Chinese separator (serving China) and, once built, a
    Vietnamese or Thai one and a Malaysian magnet plant (serving ASEAN).

    By hand, for 250 t/y of Malaysian magnet output: the 400 t step of MY-MAG (3,000; the
    200 t step is too small), fed by the Chinese separator (10 + 1 + 10 = 21 $/t × 250 =
    5,250); China keeps its 300 t at 20 $/t (6,000). Build 3,000, operate 11,250. With China
    excluded, VN-SEP (1,000 + 40 $/t × 250 = 11,000) beats TH-SEP (5,000 + 25 × 250 =
    11,250): build 4,000, operate 6,000 + 10,000 = 16,000, through Da Nang."""
    doc: dict[str, Any] = {
        "format": "raretrace-scenario/1", "year": 2030, "elements": ["Nd"],
        "shortage_cost_usd_per_t": 100000,
        "facilities": [
            {"id": "MINE", "country": "MM", "stages": ["mine"], "capacity_t": 1000,
             "composition": {"Nd": 1.0}},
            {"id": "CN-SEP", "country": "CN", "stages": ["separation"], "capacity_t": 1000},
            {"id": "VN-SEP", "country": "VN", "stages": ["separation"], "capacity_t": 0},
            {"id": "TH-SEP", "country": "TH", "stages": ["separation"], "capacity_t": 0},
            {"id": "MY-MAG", "country": "MY", "stages": ["magnet"], "capacity_t": 0},
            {"id": "SCRAP", "country": "MY", "stages": ["recycling"], "capacity_t": 0,
             "composition": {"Nd": 1.0}},
        ],
        "ports": [{"id": "DANANG", "country": "VN", "capacity_t": 1000}],
        "regions": [{"id": "ASEAN", "countries": ["MY", "VN", "TH", "MM"]},
                    {"id": "CN", "countries": ["CN"]}],
        "lanes": [
            {"from": "MINE", "to": "CN-SEP", "cost_usd_per_t": 10},
            {"from": "MINE", "to": "VN-SEP", "cost_usd_per_t": 20},
            {"from": "MINE", "to": "TH-SEP", "cost_usd_per_t": 5},
            {"from": "CN-SEP", "to": "CN", "cost_usd_per_t": 10},
            {"from": "CN-SEP", "to": "MY-MAG", "cost_usd_per_t": 1},
            {"from": "VN-SEP", "to": "MY-MAG", "via": ["DANANG"], "cost_usd_per_t": 10},
            {"from": "TH-SEP", "to": "MY-MAG", "cost_usd_per_t": 10},
            {"from": "SCRAP", "to": "MY-MAG", "cost_usd_per_t": 30},
            {"from": "MY-MAG", "to": "ASEAN", "cost_usd_per_t": 10},
        ],
        "demand": [
            {"region": "ASEAN", "year": 2030, "magnets_t": 1000, "content": {"Nd": 0.3}},
            {"region": "CN", "year": 2030, "magnets_t": 1000, "content": {"Nd": 0.3}},
        ],
        "corridor": {
            "options": [
                {"site": "VN-SEP", "capacity_t": 300, "annual_cost_usd": 1000},
                {"site": "TH-SEP", "capacity_t": 300, "annual_cost_usd": 5000},
                {"site": "MY-MAG", "capacity_t": 200, "annual_cost_usd": 2000},
                {"site": "MY-MAG", "capacity_t": 400, "annual_cost_usd": 3000},
                {"site": "SCRAP", "capacity_t": 100, "annual_cost_usd": 500},
            ],
            "targets": [{"id": "asean", "stage": "magnet", "countries": ["MY"], "t": 250}],
            "constraints": {
                "us-defence": {"region": "ASEAN", "excluded_countries": ["CN"]},
                "eu-single-country": {"region": "ASEAN", "max_share": 0.65},
                "recycled-floor": {"share": 0.2, "regions": ["ASEAN"]},
            },
        },
    }  # fmt: skip
    doc["corridor"].update(corridor)
    return doc


def built(report: Any) -> list[str]:
    return [b.option for b in report.built]


def test_the_least_cost_plan_by_hand() -> None:
    report = plan_corridor(parse_scenario(network()))
    assert built(report) == ["MY-MAG+400"]
    assert (report.build_cost_usd, report.operating_cost_usd) == (3000, pytest.approx(11250))
    assert [(t.id, t.required_t, t.achieved_t) for t in report.targets] == [
        ("asean", 250.0, pytest.approx(250.0))]  # fmt: skip
    assert report.hubs == ()
    assert report.stage_shares["Nd"]["separation"] == {"CN": 1.0}


def test_us_defence_keeps_the_material_out_of_china() -> None:
    # ASEAN stands in for the US-defence market here: no stage in China for its material.
    report = plan_corridor(parse_scenario(network()), enable=["us-defence"], resilience=False)
    assert report.constraints == ("us-defence",)
    assert built(report) == ["VN-SEP+300", "MY-MAG+400"]
    assert (report.build_cost_usd, report.operating_cost_usd) == (4000, pytest.approx(16000))
    assert [(h.port, h.t, h.capacity_t) for h in report.hubs] == [
        ("DANANG", pytest.approx(250.0), 1000.0)]  # fmt: skip
    assert report.stage_shares["Nd"]["separation"] == {
        "CN": pytest.approx(300 / 550), "VN": pytest.approx(250 / 550)}  # fmt: skip
    doc = network()
    doc["corridor"]["options"] = doc["corridor"]["options"][2:4]  # no VN or TH step
    with pytest.raises(ValidationError) as caught:
        plan_corridor(parse_scenario(doc), enable=["us-defence"], resilience=False)
    assert caught.value.rule == "corridor-infeasible"
    assert "target asean needs 250.0 t/y, at most 0.0 t/y can be reached" in caught.value.message


def test_the_single_country_limit_splits_a_stage() -> None:
    # ASEAN-bound separation: at most 65% from one non-member. With VN and TH made third
    # countries too, CN (the cheapest) does 65% and the cheaper of VN/TH the rest: VN.
    doc = network()
    doc["regions"][0]["countries"] = ["MY", "MM"]
    report = plan_corridor(parse_scenario(doc), enable=["eu-single-country"], resilience=False)
    # CN's separation serves China too: the 65% holds for the ASEAN-bound layer, so read the
    # built plan: VN carries 35% of the 250 t.
    assert built(report) == ["VN-SEP+300", "MY-MAG+400"]
    assert report.operating_cost_usd == pytest.approx(6000 + 0.65 * 250 * 21 + 0.35 * 250 * 40)


def test_the_recycled_floor_builds_the_recycler() -> None:
    report = plan_corridor(parse_scenario(network()), enable=["recycled-floor"],
                           resilience=False)  # fmt: skip
    assert "SCRAP+100" in built(report)  # 20% of the 250 t delivered: 50 t of scrap


def test_an_unknown_or_unconfigured_constraint_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown constraint 'bogus'"):
        plan_corridor(parse_scenario(network()), enable=["bogus"])
    doc = network(constraints={})
    with pytest.raises(ConfigError, match="has no 'recycled-floor' entry"):
        plan_corridor(parse_scenario(doc), enable=["recycled-floor"])


def test_a_target_out_of_reach_says_how_far_the_best_plan_gets() -> None:
    doc = network(targets=[{"id": "asean", "stage": "magnet", "countries": ["MY"], "t": 500}])
    with pytest.raises(ValidationError) as caught:
        plan_corridor(parse_scenario(doc))
    message = caught.value.message
    # ASEAN wants 300 t: no more can be shipped out of the magnet plant
    assert "target asean needs 500.0 t/y, at most 300.0 t/y can be reached" in message
    assert "\n" not in message


def test_resilience_names_the_failures_that_hurt() -> None:
    report = plan_corridor(parse_scenario(network()))
    worst = {(f.kind, f.id): f.target_shortfall_t for f in report.resilience}
    # The mine, the magnet plant, Myanmar and Malaysia stop everything; Da Nang, VN-SEP
    # and China's separator each have a stand-in (CN-SEP, or the unbuilt sites stay idle).
    assert worst[("facility", "MINE")] == pytest.approx(250)
    assert worst[("facility", "MY-MAG")] == pytest.approx(250)
    assert worst[("country", "MM")] == pytest.approx(250)
    assert worst[("port", "DANANG")] == pytest.approx(0, abs=1e-6)
    assert worst[("facility", "CN-SEP")] == pytest.approx(250)  # nothing else is built
    mine = next(f for f in report.resilience if f.id == "MINE")
    assert mine.share == 1.0 and mine.other_shortfall_t == pytest.approx(300)
    assert report.resilience[0].target_shortfall_t >= report.resilience[-1].target_shortfall_t


def test_a_file_without_a_corridor_is_refused() -> None:
    doc = network()
    del doc["corridor"]
    with pytest.raises(ConfigError, match="no 'corridor' section"):
        plan_corridor(parse_scenario(doc))
