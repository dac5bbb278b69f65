"""Routes (issue 9 §1) as pure values: appending steps, mixing, marginals, stored JSON."""

from __future__ import annotations

import pytest

from raretrace.domain import jsontext
from raretrace.domain.model import Facility, PathStep, Provenance, RouteStep
from raretrace.domain.provenance import (
    by_stage,
    from_json,
    share_through,
    to_json,
    transform_stage,
)
from raretrace.domain.routes import extended, mixed, source_table, then

MINE_AU = RouteStep("mine", "AU", "AU")
MINE_CN = RouteStep("mine", "CN", "CN")
PORT = RouteStep("warehouse", "MY", "MY")
RECY, RED, ALLOY, MAG = (RouteStep(s, "MY", "JP") for s in
                         ("recycling", "reduction", "alloying", "magnet"))  # fmt: skip


def test_equal_consecutive_steps_and_repeated_blocks_are_one() -> None:
    assert then((MINE_AU,), PORT) == (MINE_AU, PORT)
    assert then((MINE_AU, PORT), PORT) == (MINE_AU, PORT)
    turns = (MINE_AU, RED, ALLOY, MAG, RECY, RED, ALLOY, MAG)
    assert then(turns, RECY) == (MINE_AU, RED, ALLOY, MAG, RECY)  # a second turn is the first
    once = (MINE_AU, RED, ALLOY, MAG, RECY, RED, ALLOY)
    assert then(once, MAG) == (*once, MAG)  # a block seen again, but not back to back
    assert then((MINE_AU, RED, MAG, RECY, RED), ALLOY) == (MINE_AU, RED, MAG, RECY, RED, ALLOY)


def test_mixing_weights_routes_by_the_kg_each_input_gave() -> None:
    a, b = source_table(MINE_AU, ["Nd", "Pr"]), source_table(MINE_CN, ["Nd"])
    table = mixed([({"Nd": 30.0, "Pr": 5.0}, a), ({"Nd": 10.0}, b)], ["Nd", "Pr"], RED)
    routes = Provenance({}, {}, (), table).routes
    assert {r.steps: r.share for r in routes["Nd"]} == {
        (MINE_AU, RED): pytest.approx(0.75),
        (MINE_CN, RED): pytest.approx(0.25),
    }
    assert [(r.steps, r.share) for r in routes["Pr"]] == [((MINE_AU, RED), 1.0)]
    stages = by_stage(routes)
    assert stages["Nd"] == {"mine": {"AU": 0.75, "CN": 0.25}, "reduction": {"MY": 1.0}}
    assert share_through(routes["Nd"], stages={"mine"}, countries={"CN"}) == 0.25
    assert share_through(routes["Nd"], stages={"reduction"}, technology_origins={"CN"}) == 0.0


def test_routes_that_become_equal_merge() -> None:
    a = extended(source_table(MINE_AU, ["Nd"]), PORT)  # mine AU > port
    b = source_table(MINE_AU, ["Nd"])  # mine AU
    table = extended(mixed([({"Nd": 1.0}, a), ({"Nd": 3.0}, b)], ["Nd"], None), PORT)
    assert table.paths == ((MINE_AU, PORT),)
    assert table.shares == {"Nd": (1.0,)}


def test_an_element_no_input_holds_has_one_route_starting_here() -> None:
    table = mixed([({"Nd": 1.0}, source_table(MINE_AU, ["Nd"]))], ["Nd", "Dy"], RED)
    routes = Provenance({}, {}, (), table).routes
    assert [(r.steps, r.share) for r in routes["Dy"]] == [((RED,), 1.0)]


def test_other_is_the_processing_stage_and_never_mine() -> None:
    def facility(*stages: str) -> Facility:
        return Facility("F", "F", "op", "MY", stages, "MY")

    assert transform_stage(facility("cracking", "separation"), "other") == "cracking"
    assert transform_stage(facility("warehouse", "cracking"), "other") == "cracking"
    assert transform_stage(facility("mine"), "other") == "concentrator"
    assert transform_stage(facility("mine", "concentrator"), "other") == "concentrator"
    assert transform_stage(facility("separation"), "separation") == "separation"
    assert transform_stage(facility("separation"), "split") is None
    assert transform_stage(facility("separation"), "merge") is None


def test_stored_json_round_trips() -> None:
    a, b = source_table(MINE_AU, ["Nd", "Pr"]), source_table(MINE_CN, ["Nd"])
    table = mixed([({"Nd": 30.0, "Pr": 5.0}, a), ({"Nd": 10.0}, b)], ["Nd", "Pr"], RED)
    prov = Provenance(
        {"Nd": {"M": 1.0}}, {"Nd": {"AU": 1.0}}, (PathStep("mine", "M", "AU", "AU"),), table,
        {"s": {"Nd": 0.5}}, {"s": ("c1",)},
    )  # fmt: skip
    again = from_json(jsontext.loads(jsontext.dumps(to_json(prov))))
    assert again == prov
    assert from_json({"by_mine": {}, "by_country": {}, "path": []}).routes == {}
