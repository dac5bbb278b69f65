"""The packaged demo world: registry shape, references that resolve, and a source for every fact."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from demo_checker import Replay

from raretrace.demo.generate import generate_events
from raretrace.demo.world import load_world, registry
from raretrace.domain.registry import parse_registry_document

STAGES = {"mine", "concentrator", "cracking", "separation", "reduction", "alloying", "magnet",
          "recycling", "warehouse"}  # fmt: skip
ISO2 = re.compile(r"^[A-Z]{2}$")
# The facts of the project's reference compilation that this file checks the world against,
# copied into the repository with their sources (see the "about" note inside the file).
REFERENCE = Path(__file__).resolve().parents[1] / "data" / "ree_reference_subset.json"


@pytest.fixture(scope="module")
def world() -> Any:
    return load_world()


def _stages(facility: dict[str, Any]) -> list[str]:
    stage = facility["stage"]
    return [stage] if isinstance(stage, str) else list(stage)


def test_registry_shape(world: Any) -> None:
    doc = registry(world)
    assert list(doc) == ["participants", "facilities", "accreditations", "licences", "audits"]
    ids = {p["id"] for p in doc["participants"]}
    assert len(ids) == len(doc["participants"])
    for participant in doc["participants"]:
        assert participant["name"] and ISO2.match(participant["country"])
    facility_ids = [f["id"] for f in doc["facilities"]]
    assert len(set(facility_ids)) == len(facility_ids)
    for facility in doc["facilities"]:
        assert facility["operator"] in ids
        assert ISO2.match(facility["country"]) and ISO2.match(facility["technology_origin"])
        assert isinstance(facility["cahra"], bool)
        assert _stages(facility) and set(_stages(facility)) <= STAGES
        assert isinstance(facility["lat"], float) and isinstance(facility["lon"], float)
        assert facility["name"] and facility["region"]


def test_named_sites_and_operators(world: Any) -> None:
    facilities = {f["id"]: f for f in registry(world)["facilities"]}
    assert facilities["MM-KACHIN-SR1"]["cahra"] is True
    assert [f for f in facilities.values() if f["cahra"]] == [facilities["MM-KACHIN-SR1"]]
    assert facilities["MY-LYNAS-LAMP"]["operator"] == "lynas-my"
    assert facilities["AU-LYNAS-MTWELD"]["operator"] == "lynas-au"
    assert _stages(facilities["AU-LYNAS-MTWELD"])[:2] == ["mine", "concentrator"]
    assert {"magnet", "reduction", "alloying"} <= set(_stages(facilities["MY-JSLINK-KUANTAN"]))
    for port in ("PORT-MY-KUANTAN", "PORT-VN-HAIPHONG", "PORT-VN-DANANG"):
        assert _stages(facilities[port]) == ["warehouse"]


def _records(raw: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = [(k, r) for k in ("participants", "facilities", "compositions", "recoveries", "feeds",
                            "routes", "licences", "accreditations", "audits")
           for r in raw[k]]  # fmt: skip
    out.append(("magnet", raw["magnet"]))
    out += [("residues", r) for r in raw["residues"].values()]
    return out


def test_every_fact_has_a_source_or_is_labelled_an_assumption(world: Any) -> None:
    for kind, record in _records(dict(world.raw)):
        name = f"{kind} {record.get('id') or record.get('facility') or record.get('name')}"
        assert isinstance(record["sources"], list) and isinstance(record["assumptions"], list)
        assert record["sources"] or record["assumptions"], name
        assert record["verified"] in (True, False, None), name
        for source in record["sources"]:
            assert source["title"] and "url" in source, name
        assert all(isinstance(a, str) and a for a in record["assumptions"]), name


def test_new_facilities_are_labelled_assumptions(world: Any) -> None:
    for facility in world.raw["facilities"]:
        if facility["reference_id"] is None:
            assert any("modelling assumption" in a for a in facility["assumptions"])


def test_routes_and_feeds_name_real_facilities(world: Any) -> None:
    for route in world.raw["routes"]:
        assert set(route["legs"]) <= set(world.facilities), route["id"]
    for feed in world.raw["feeds"]:
        stages = world.facilities[feed["facility"]].stages
        assert "mine" in stages or "recycling" in stages


def test_events_reference_registered_facilities_and_participants(world: Any) -> None:
    doc = registry(world)
    facilities = {f["id"] for f in doc["facilities"]}
    participants = {p["id"] for p in doc["participants"]}
    for event in generate_events(3_000):
        for key in ("facility", "from", "to"):
            assert event.get(key, "MY-LYNAS-LAMP") in facilities
        for key in ("actor", "consignee"):
            assert event.get(key, "lynas-my") in participants
    Replay(doc).run(generate_events(3_000))


def test_reference_facts_match_the_reference(world: Any) -> None:
    reference = json.loads(REFERENCE.read_text("utf-8"))
    ref_facilities = {f["id"]: f for f in reference["facilities"]}
    for facility in world.raw["facilities"]:
        if facility["reference_id"] is None:
            continue  # checked by test_new_facilities_are_labelled_assumptions
        assert facility["reference_id"] in ref_facilities, (
            f"facility {facility['id']!r} names reference_id {facility['reference_id']!r}, "
            f"which is not in {REFERENCE.name}: copy its entry from the reference compilation"
        )
        ref = ref_facilities[facility["reference_id"]]
        assert facility["country"] == ref["country"]
        assert facility["capacity_t_per_year"] == ref["capacity_t_per_year"]
        if ref["lat"] is not None:
            assert (facility["lat"], facility["lon"]) == (ref["lat"], ref["lon"])
        assert facility["sources"] == [
            {"title": s["title"], "url": s["url"]} for s in ref["source"]
        ]
    compositions = {c["id"]: c for c in reference["concentrate_compositions"]}
    for composition in world.raw["compositions"]:
        ref = compositions[composition["id"]]
        assert composition["pct"] == ref["pct"] and composition["verified"] == ref["verified"]
    ranges = [r["recovery_range"] for r in reference["stage_recoveries"]]
    assert [r["range"] for r in world.raw["recoveries"][: len(ranges)]] == ranges
    assert world.raw["magnet"]["sourced_wt_pct"] == reference["magnet_composition"]["sourced"]


def _parsed(world: Any) -> Any:
    """The world's registry as the ledger reads it (refuses any bad record)."""
    return parse_registry_document(registry(world))


def test_compliance_records_are_what_the_ledger_accepts(world: Any) -> None:
    doc = registry(world)
    assert len(_parsed(world).records()) == sum(len(v) for v in doc.values())
    for kind in ("licences", "accreditations", "audits"):
        for record in doc[kind]:
            assert not {"sources", "verified", "assumptions"} & set(record), record["id"]


def test_authorities_auditors_and_their_records(world: Any) -> None:
    doc = registry(world)
    roles = {p["id"]: p.get("roles", ["operator"]) for p in doc["participants"]}
    for authority in ("aelb-my", "mofcom-cn", "demirs-wa"):
        assert roles[authority] == ["authority"]
    assert all(roles[lic["authority"]] == ["authority"] for lic in doc["licences"])
    assert all(roles[a["auditor"]] == ["auditor"] for a in doc["audits"])
    accredited = {(a["auditor"], s) for a in doc["accreditations"] for s in a["standards"]}
    assert ("bureau-veritas-vn", "oecd-ddg") not in accredited  # so its Kachin audit won't count
    [kachin] = [a for a in doc["audits"] if a["facility"] == "MM-KACHIN-SR1"]
    assert (kachin["auditor"], kachin["standard"]) == ("bureau-veritas-vn", "oecd-ddg")
    licensed = {lic["facility"] for lic in doc["licences"] if lic["kind"] == "operating"}
    assert "MM-KACHIN-SR1" not in licensed  # mining there is illegal under Myanmar law


def test_one_licence_expires_mid_year_and_one_export_licence_ends_early(world: Any) -> None:
    licences = {lic["id"]: lic for lic in registry(world)["licences"]}
    mid_year = [
        lic for lic in licences.values() if "2025-06" <= lic.get("valid_until", "") < "2025-08"
    ]
    assert [lic["id"] for lic in mid_year] == ["LIC-RECYCLE-OP"]
    export = licences["LIC-CN18-GANZHOU"]
    assert (export["kind"], export["regime"], export["holder"]) == (
        "export",
        "CN-MOFCOM-18",
        "cn-reg",
    )
    assert "events" not in export and "lots" not in export  # a general licence, while valid
    assert (export["valid_from"], export["valid_until"]) == (
        "2025-04-04T00:00:00Z", "2025-10-01T00:00:00Z",
    )  # fmt: skip


def test_a_plant_outside_china_runs_chinese_technology(world: Any) -> None:
    foreign = [f["id"] for f in registry(world)["facilities"]
               if f["technology_origin"] == "CN" and f["country"] != "CN"
               and "separation" in _stages(f)]  # fmt: skip
    assert foreign == ["VN-YENBAI-SEP"]
