"""The scenario LP on networks small enough to solve by hand: exact flows, costs, shadow
prices; every shock type; infeasible and unbounded inputs explained in words."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from raretrace.analytics.network_file import parse_scenario
from raretrace.analytics.scenario import run_scenario
from raretrace.domain.errors import ValidationError

APPROX = {"rel": 1e-6, "abs": 1e-6}


def chain(**changes: Any) -> dict[str, Any]:
    """A mine in AU (100 t/y of rare earths: Nd 0.5, Dy 0.1 a t) → a separator in MY through
    port P (40 t/y, recovery 0.9) → the EU, which wants 100 t of magnets (Nd 30%, Dy 5%).

    By hand: Nd 30 t and Dy 5 t delivered need 33.33 t and 5.56 t into the separator and
    66.67 t of mining (Nd binds the mine's mix). Cost = mining 10·66.67 + lane 1 (20 + port
    1)·38.89 + lane 2 (30 + separation 5)·35 = 666.67 + 816.67 + 1225 = 2708.33."""
    doc: dict[str, Any] = {
        "format": "raretrace-scenario/1", "year": 2030, "elements": ["Nd", "Dy"],
        "facilities": [
            {"id": "MINE", "country": "AU", "stages": ["mine"], "capacity_t": 100,
             "composition": {"Nd": 0.5, "Dy": 0.1}, "cost_usd_per_t": 10},
            {"id": "SEP", "country": "MY", "stages": ["separation"], "capacity_t": 40,
             "recovery": 0.9, "cost_usd_per_t": 5},
        ],
        "ports": [{"id": "P", "country": "MY", "capacity_t": 1000, "cost_usd_per_t": 1}],
        "regions": [{"id": "EU", "countries": ["DE"]}],
        "lanes": [
            {"from": "MINE", "to": "SEP", "via": ["P"], "cost_usd_per_t": 20, "transit_days": 9},
            {"from": "SEP", "to": "EU", "cost_usd_per_t": 30, "transit_days": 20},
        ],
        "demand": [{"region": "EU", "year": 2030, "magnets_t": 100,
                    "content": {"Nd": 0.3, "Dy": 0.05}}],
    }  # fmt: skip
    doc.update(changes)
    return doc


def delivered(run: Any) -> dict[tuple[str, str], tuple[float, float]]:
    return {(d.region, d.element): (d.met_t, d.unmet_t) for d in run.deliveries}


def test_the_hand_solved_chain_has_its_exact_optimum() -> None:
    report = run_scenario(parse_scenario(chain()))
    run = report.baseline
    assert run.cost_usd == pytest.approx(2708.3333333, **APPROX)
    assert delivered(run) == {("EU", "Dy"): (5.0, 0.0), ("EU", "Nd"): (30.0, 0.0)}
    assert run.lane_flows[("MINE>P>SEP", "Nd")] == pytest.approx(100 / 3, **APPROX)
    assert run.lane_flows[("MINE>P>SEP", "Dy")] == pytest.approx(50 / 9, **APPROX)
    marginal = {d.element: d.marginal_usd_per_t for d in run.deliveries}
    # One more t of Nd: 1/0.9 t through lane 1 and 1/0.9/0.5 t more mining, then lane 2.
    assert marginal["Nd"] == pytest.approx((21 + 10 / 0.5) / 0.9 + 35, **APPROX)
    # Dy rides on mining Nd already pays for: only the lanes.
    assert marginal["Dy"] == pytest.approx(21 / 0.9 + 35, **APPROX)
    assert run.binding == ()  # nothing is full
    assert report.shocked == report.baseline and report.reroutes == ()


def test_a_full_plant_binds_with_both_shadow_prices() -> None:
    doc = chain()
    doc["facilities"][1]["capacity_t"] = 28  # Nd 30 + Dy 5 do not fit: 28 t out
    run = run_scenario(parse_scenario(doc)).baseline
    assert sum(d.met_t for d in run.deliveries) == pytest.approx(28, **APPROX)
    (binding,) = run.binding
    assert (binding.kind, binding.id, binding.capacity_t) == ("facility", "SEP", 28)
    assert binding.shortage_t_per_t == pytest.approx(1.0, **APPROX)  # one t more, one t met
    # Within 28 t the least cost mines least: the mine's mix binds for Nd and Dy at once,
    # n/0.45 = d/0.09, so n = 5d: Dy 28/6 t, Nd 140/6 t. One more t/y of capacity would be
    # met demand, not saved cost (the cost pass keeps the unmet demand as it is): 0 US$.
    assert delivered(run)[("EU", "Dy")] == pytest.approx((28 / 6, 5 - 28 / 6), **APPROX)
    assert delivered(run)[("EU", "Nd")] == pytest.approx((140 / 6, 30 - 140 / 6), **APPROX)
    assert run.cost_usd == pytest.approx(10 * 28 / 6 / 0.09 + 28 * (21 / 0.9 + 35), **APPROX)
    assert binding.shadow_usd_per_t == pytest.approx(0.0, abs=1e-6)
    assert run.reasons == ("Dy to EU: limited by facility SEP",
                           "Nd to EU: limited by facility SEP")  # fmt: skip


def test_a_full_lane_and_a_full_port_are_named() -> None:
    lane = chain()
    lane["lanes"][1]["capacity_t"] = 20
    (binding,) = run_scenario(parse_scenario(lane)).baseline.binding
    assert (binding.kind, binding.id, binding.capacity_t) == ("lane", "SEP>EU", 20)
    port = chain(ports=[{"id": "P", "country": "MY", "capacity_t": 10}])
    run = run_scenario(parse_scenario(port)).baseline
    assert [(b.kind, b.id) for b in run.binding] == [("port", "P")]
    assert sum(d.met_t for d in run.deliveries) == pytest.approx(9.0, **APPROX)


def test_an_outage_cuts_its_share_of_the_year_and_binds_at_zero() -> None:
    # 73 days of 365 (2030 is not a leap year) = 20% of the year.
    doc = chain(shocks=[{"type": "facility-outage", "facility": "SEP", "from": "2030-01-01",
                         "days": 73}])  # fmt: skip
    report = run_scenario(parse_scenario(doc))
    assert report.periods == (("2030-01-01", "2030-03-15"), ("2030-03-15", "2031-01-01"))
    assert delivered(report.shocked)[("EU", "Nd")] == pytest.approx((24.0, 6.0), **APPROX)
    assert delivered(report.shocked)[("EU", "Dy")] == pytest.approx((4.0, 1.0), **APPROX)
    (binding,) = report.shocked.binding
    assert (binding.id, binding.capacity_t, binding.periods) == ("SEP", 0.0, ("2030-01-01",))
    assert binding.shortage_t_per_t == pytest.approx(0.2, **APPROX)  # 1 t/y is 0.2 t then
    assert report.shocked.cost_usd == pytest.approx(0.8 * 2708.3333333, **APPROX)
    assert report.reroutes[0].lane in ("MINE>P>SEP", "SEP>EU")


def test_a_port_closure_reroutes_to_the_longer_way() -> None:
    doc = chain()
    doc["ports"].append({"id": "Q", "country": "TH"})
    doc["lanes"].append({"id": "long", "from": "MINE", "to": "SEP", "via": ["Q"],
                         "cost_usd_per_t": 50})  # fmt: skip
    doc["shocks"] = [{"type": "port-closure", "port": "P", "from": "2030-07-02"}]  # half
    report = run_scenario(parse_scenario(doc))
    assert report.shocked.unmet_t == pytest.approx(0.0, abs=1e-6)
    flows = {(r.lane, r.element): (r.baseline_t, r.shocked_t) for r in report.reroutes}
    half = 183 / 365  # 2 July to 31 December
    assert flows[("long", "Nd")] == pytest.approx((0.0, 100 / 3 * half), **APPROX)
    assert flows[("MINE>P>SEP", "Nd")] == pytest.approx((100 / 3, 100 / 3 * (1 - half)),
                                                        **APPROX)  # fmt: skip
    extra = 29 * (100 / 3 + 50 / 9) * half  # the 29 $/t more, on what went the long way
    assert report.shocked.cost_usd - report.baseline.cost_usd == pytest.approx(extra, **APPROX)


def test_an_export_ban_stops_the_banned_elements_leaving_the_country() -> None:
    doc = chain()
    doc["facilities"].append({"id": "SEP2", "country": "AU", "stages": ["separation"],
                              "recovery": 0.9})  # fmt: skip
    doc["lanes"].append({"from": "MINE", "to": "SEP2", "cost_usd_per_t": 5})
    doc["lanes"].append({"from": "SEP2", "to": "EU", "cost_usd_per_t": 30})
    doc["shocks"] = [{"type": "export-ban", "country": "AU", "stages": ["separation"],
                      "elements": ["Dy"], "from": "2030-01-01"}]  # fmt: skip
    report = run_scenario(parse_scenario(doc))
    base, hit = report.baseline.lane_flows, report.shocked.lane_flows
    assert base[("SEP2>EU", "Dy")] == pytest.approx(5.0, **APPROX)  # cheaper, unbanned
    assert ("SEP2>EU", "Dy") not in hit  # banned: the separator in AU may not export Dy
    assert hit[("SEP>EU", "Dy")] == pytest.approx(5.0, **APPROX)  # the MY way (the mine is
    assert hit[("SEP2>EU", "Nd")] == pytest.approx(30.0, **APPROX)  # not at a banned stage)
    assert report.shocked.stage_shares["Dy"]["separation"] == {"MY": 1.0}
    assert report.baseline.stage_shares["Dy"]["separation"] == {"AU": 1.0}


def test_demand_growth_and_a_capacity_addition() -> None:
    doc = chain(shocks=[
        {"type": "demand-growth", "region": "EU", "factor": 1.5, "year": 2030},
        {"type": "capacity-addition", "facility": "SEP", "capacity_t": 20, "from": "2030-07-02"},
    ])  # fmt: skip
    report = run_scenario(parse_scenario(doc))
    wanted = {(d.region, d.element): d.demand_t for d in report.shocked.deliveries}
    assert wanted == {("EU", "Dy"): pytest.approx(7.5), ("EU", "Nd"): pytest.approx(45.0)}
    # SEP ships 40 t/y until 2 July, 60 t/y after: 52.5 t a year needed, 40·182/365 +
    # 52.5·183/365 can go, the rest is unmet.
    first, second = 182 / 365, 183 / 365
    met = 40 * first + 52.5 * second
    assert sum(d.met_t for d in report.shocked.deliveries) == pytest.approx(met, **APPROX)
    idle = run_scenario(parse_scenario(chain(shocks=[
        {"type": "demand-growth", "region": "EU", "factor": 2, "year": 2031}])))  # fmt: skip
    assert idle.notes == ("demand in EU × 2 in 2031: no effect, the scenario solves 2030",)


def test_demand_no_lane_reaches_is_explained() -> None:
    doc = chain()
    doc["elements"] = ["Nd", "Dy", "Tb"]
    doc["facilities"][1]["recovery"] = 0.9
    doc["demand"][0]["content"]["Tb"] = 0.01
    run = run_scenario(parse_scenario(doc)).baseline
    assert delivered(run)[("EU", "Tb")] == (0.0, 1.0)
    assert run.reasons == ("Tb to EU: no source of Tb is connected to it by lanes that carry "
                           "it and are open (bans and removed sites cut lanes)",)  # fmt: skip


def test_an_unreachable_must_meet_demand_is_infeasible_and_says_why() -> None:
    doc = chain()
    doc["facilities"][1]["capacity_t"] = 28
    doc["demand"][0]["must_meet"] = True
    with pytest.raises(ValidationError) as caught:
        run_scenario(parse_scenario(doc))
    assert caught.value.rule == "scenario-infeasible"
    message = caught.value.message
    assert "they need 35.0 t, at most 28.0 t can be delivered" in message
    assert "short in the best allocation: Dy to EU 0.3 t, Nd to EU 6.7 t" in message
    assert "; limited by facility SEP;" in message and "\n" not in message


def test_a_negative_cost_with_no_limit_is_unbounded_and_names_the_lane() -> None:
    doc = chain()
    doc["facilities"][0]["capacity_t"] = None
    doc["facilities"][1]["capacity_t"] = None
    doc["ports"][0]["capacity_t"] = None
    doc["lanes"].append({"id": "dump", "from": "SEP", "to": "EU", "cost_usd_per_t": -100})
    doc["demand"][0]["magnets_t"] = 100
    doc["lanes"].append({"id": "subsidy", "from": "MINE", "to": "SEP", "cost_usd_per_t": -500})
    with pytest.raises(ValidationError) as caught:
        run_scenario(parse_scenario(doc))
    assert caught.value.rule == "scenario-unbounded"
    assert "lane subsidy has a negative cost" in caught.value.message
    assert "give a capacity on that way or a cost of 0 or more" in caught.value.message


def test_the_year_is_cut_at_every_shock_date_inside_it() -> None:
    doc = chain(shocks=[
        {"type": "facility-outage", "facility": "SEP", "from": "2030-03-01", "until": "2030-03-31"},
        {"type": "port-closure", "port": "P", "from": "2029-12-01", "days": 45},
    ])  # fmt: skip
    report = run_scenario(parse_scenario(copy.deepcopy(doc)))
    assert [a for a, _ in report.periods] == ["2030-01-01", "2030-01-15", "2030-03-01",
                                              "2030-04-01"]  # fmt: skip
    # closed 1-14 January and out all March: 14 + 31 = 45 days without supply
    assert report.shocked.unmet_t == pytest.approx(35 * 45 / 365, **APPROX)
