"""Scenario files: the schema and id checks name the place in the file; YAML and JSON read
alike; the template and the packaged scenarios; the commands as real processes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from cli_support import run
from raretrace.analytics.network_file import load_document, parse_scenario, read_scenario, schema
from raretrace.analytics.network_template import demo_sites, template_document
from raretrace.analytics.scenario import run_scenario
from raretrace.analytics.scenario_files import demo_scenarios, dump, names, packaged_path
from raretrace.domain.errors import ConfigError, ValidationError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "analytics.md"


def small() -> dict[str, Any]:
    return {
        "format": "raretrace-scenario/1", "year": 2030, "elements": ["Nd"],
        "facilities": [
            {"id": "M", "country": "AU", "stages": ["mine"], "capacity_t": 10,
             "composition": {"Nd": 0.5}},
            {"id": "S", "country": "MY", "stages": ["separation"], "recovery": 0.9},
        ],
        "regions": [{"id": "EU", "countries": ["DE"]}],
        "lanes": [{"from": "M", "to": "S", "cost_usd_per_t": 1},
                  {"from": "S", "to": "EU", "cost_usd_per_t": 1}],
        "demand": [{"region": "EU", "year": 2030, "magnets_t": 10, "content": {"Nd": 0.3}}],
    }  # fmt: skip


def refused(doc: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        parse_scenario(doc, "f.json")
    assert caught.value.rule == "scenario-file" and "\n" not in caught.value.message
    return caught.value.message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["facilities"][1].update(capacity_t=-5),
         "facilities[1] (S).capacity_t: -5 is less than the minimum of 0"),
        (lambda d: d["facilities"][0].update(stages=["smelting"]),
         "facilities[0] (M).stages[0]: 'smelting' is not one of"),
        (lambda d: d["lanes"][0].pop("cost_usd_per_t"),
         "lanes[0]: 'cost_usd_per_t' is a required property"),
        (lambda d: d["shocks"].append({"type": "facility-outage", "facility": "S",
                                       "from": "2030-01-01", "weeks": 3}),
         "shocks[0]: Additional properties are not allowed ('weeks' was unexpected)"),
        (lambda d: d["shocks"].append({"type": "meteor", "from": "2030-01-01"}),
         "shocks[0].type: 'meteor' is not one of"),
        (lambda d: d.update(year="2030"), "year: '2030' is not of type 'integer'"),
        (lambda d: d["lanes"][1].update(to="JP"),
         "lanes[1].to: 'JP' is neither a facility nor a region of this file"),
        (lambda d: d["lanes"][0].update(via=["NOPE"]),
         "lanes[0].via[0]: 'NOPE' is not a port of this file"),
        (lambda d: d["lanes"].append({"from": "S", "to": "M", "cost_usd_per_t": 1}),
         "lanes[2].to: M is a source (it has a composition) and receives nothing"),
        (lambda d: d["facilities"].append({"id": "EU", "country": "DE", "stages": ["magnet"]}),
         "regions[0] (EU).id: id 'EU' is used twice (first at facilities[2] (EU))"),
        (lambda d: d["demand"][0]["content"].update(Dy=0.01),
         "demand[0].content: Dy is not among the modelled elements ['Nd']"),
        (lambda d: d["facilities"][0]["composition"].update(Nd=1.5),
         "facilities[0] (M).composition.Nd: 1.5 is greater than the maximum of 1"),
        (lambda d: d["demand"][0].update(year=2031),
         "demand: no demand for the year solved (2030)"),
        (lambda d: d["shocks"].append({"type": "port-closure", "port": "P", "from": "2030-02-03"}),
         "shocks[0].port: 'P' is not a port of this file"),
        (lambda d: d["shocks"].append({"type": "facility-outage", "facility": "S",
                                       "from": "2030-02-30", "days": 3}),
         "shocks[0].from: '2030-02-30' is not a date; use YYYY-MM-DD"),
        (lambda d: d["shocks"].append({"type": "facility-outage", "facility": "S",
                                       "from": "2030-03-01", "until": "2030-02-01"}),
         "shocks[0].until: ends (2030-02-01) before it starts (2030-03-01)"),
    ],
)  # fmt: skip
def test_a_bad_file_is_refused_naming_the_place(change: Any, expected: str) -> None:
    doc = small()
    doc.setdefault("shocks", [])
    change(doc)
    assert expected in refused(doc)


def test_json_and_yaml_read_alike_and_dates_stay_dates(tmp_path: Path) -> None:
    doc = small()
    doc["shocks"] = [{"type": "facility-outage", "facility": "S", "from": "2030-03-01",
                      "days": 30}]  # fmt: skip
    (tmp_path / "s.json").write_text(json.dumps(doc))
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(doc))
    assert read_scenario(tmp_path / "s.json") == read_scenario(tmp_path / "s.yaml")
    with pytest.raises(ValidationError, match=r"at line 2, column \d+"):
        load_document(b"a: [1,\n  b: }", "x.yaml")
    with pytest.raises(ConfigError, match="does not exist; write one with --template"):
        read_scenario(tmp_path / "missing.yaml")


def test_the_schema_is_a_valid_schema_and_accepts_every_packaged_file() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())
    for name in names():
        jsonschema.validate(json.loads(packaged_path(name).read_text()), schema())


def test_the_packaged_scenarios_are_what_the_template_makes() -> None:
    made = demo_scenarios()
    assert sorted(made) == names()
    for name, doc in made.items():
        assert packaged_path(name).read_text() == dump(doc), (
            f"{name}: regenerate with python -m raretrace.analytics.scenario_files "
            "src/raretrace/data/scenarios"
        )


def test_the_template_keeps_every_figure_with_its_provenance() -> None:
    doc = template_document(demo_sites())
    for facility in doc["facilities"]:
        assert "assumptions" in facility, facility["id"]
    lamp = next(f for f in doc["facilities"] if f["id"] == "MY-LYNAS-LAMP")
    assert (lamp["capacity_t"], lamp["capacity_elements"]) == (10500, ["Nd", "Pr"])
    assert lamp["sources"] and lamp["verified"] is None
    assert all(d["verified"] is False for d in doc["demand"])
    report = run_scenario(parse_scenario(doc))
    assert report.baseline.unmet_t == pytest.approx(0.0, abs=1e-6)


def test_the_demo_tour_scenario_hits_dy_and_tb_outside_china() -> None:
    report = run_scenario(read_scenario(packaged_path("demo-tour")))
    unmet = {(d.region, d.element) for d in report.shocked.deliveries if d.unmet_t > 1}
    assert ("EU", "Dy") in unmet and ("JP-KR", "Tb") in unmet
    assert not any(region == "CN" for region, _ in unmet)
    assert any(b.id == "MY-LYNAS-LAMP" for b in report.shocked.binding)  # down three months
    assert report.shocked.binding[0].shortage_t_per_t > 0


def test_the_commands_as_real_processes(tmp_path: Path) -> None:
    done = run("analytics", "scenario", "--template", "s.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load((tmp_path / "s.yaml").read_text())["format"] == "raretrace-scenario/1"
    again = run("analytics", "scenario", "--template", "s.yaml", cwd=tmp_path)
    assert again.returncode == 2 and "never overwrites" in again.stderr
    tour = str(packaged_path("demo-tour"))
    done = run("analytics", "scenario", tour, "--json", "--plot", "s.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) >= {"baseline", "shocked", "reroutes", "periods", "shocks"}
    page = (tmp_path / "s.html").read_text()
    assert "Unmet demand" in page and not re.search(r"<script[^>]+src=", page)
    table = run("analytics", "scenario", tour, cwd=tmp_path)
    assert "binding after the shocks" in table.stdout and "MY-LYNAS-HRE1" in table.stdout
    plan = run("analytics", "corridor", str(packaged_path("corridor-asean-2030")),
               "--enable", "us-defence", "--json", cwd=tmp_path)  # fmt: skip
    assert plan.returncode == 0, plan.stderr
    corridor = json.loads(plan.stdout)
    assert corridor["constraints"] == ["us-defence"] and corridor["resilience"]


def test_the_example_in_the_docs_is_a_valid_scenario_and_solves() -> None:
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"<!-- scenario example -->\n```yaml\n(.*?)```", text, re.S)
    assert block, "docs/analytics.md lost its scenario example"
    doc = load_document(block.group(1).encode(), "docs example")
    report = run_scenario(parse_scenario(doc, "docs example"))
    assert [d.unmet_t for d in report.baseline.deliveries] == [0.0, 0.0]
    assert report.shocked.unmet_t > 0


# The project's reference facts, as far as the packaged copy uses them (the subset in
# tests/data, see its "about"): the suite needs nothing beside the repository.
REFERENCE = Path(__file__).resolve().parents[1] / "data" / "ree_reference_subset.json"


def test_the_packaged_reference_copies_the_project_reference() -> None:
    from raretrace.analytics.network_template import reference

    source, ours = json.loads(REFERENCE.read_text()), reference()
    facilities = {f["id"]: f for f in source["facilities"]}
    assert ours["facilities"]["MY-LYNAS-LAMP"]["capacity_t"] == facilities["MY-LYNAS-LAMP"][
        "capacity_t_per_year"]  # fmt: skip
    for site, record in ours["facilities"].items():
        if site in facilities and "USGS" not in " ".join(record["assumptions"]):
            assert record["sources"] == [
                {"title": s["title"], "url": s.get("url")} for s in facilities[site]["source"]
            ], site
    ranges = {r["stage"]: r["recovery_range"] for r in source["stage_recoveries"]}
    for record in ours["stage_recovery"].values():
        if "range" in record and record["verified"] is False:
            assert record["range"] in ranges.values()
            assert record["value"] == pytest.approx(sum(record["range"]) / 2)
    demand = {d["metric"]: d for d in source["demand_and_recycling"]}["magnet REE demand 2023"]
    assert ours["magnet_demand"]["value_kt_2023"] == demand["value_kt"]
    assert ours["magnet_demand"]["verified"] == demand["verified"]
