"""The JSON Schemas shipped in ``raretrace/schemas`` agree with the parsers they describe."""

from __future__ import annotations

import copy
import json
from importlib.resources import files
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from examples import example_events
from raretrace.domain.elements import ELEMENT_KEYS
from raretrace.domain.errors import ValidationError
from raretrace.domain.events import EVENT_TYPES, parse_event
from raretrace.domain.model import FORMS, PROCESSES, STAGES
from raretrace.domain.registry import parse_registry


def _schema(name: str) -> dict[str, Any]:
    text = (files("raretrace") / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


EVENT_SCHEMA = _schema("event")
REGISTRY_SCHEMA = _schema("registry")
EVENTS = Draft202012Validator(EVENT_SCHEMA)
REGISTRY = Draft202012Validator(REGISTRY_SCHEMA)

ISSUE_EVENTS = example_events()
ISSUE_REGISTRY = {
    "participants": [{"id": "lynas-my", "name": "Lynas Malaysia Sdn Bhd", "country": "MY"}],
    "facilities": [
        {"id": "MY-GEBENG", "name": "Lynas Malaysia, Gebeng", "operator": "lynas-my",
         "country": "MY", "region": "Pahang", "stage": "separation", "lat": 3.97, "lon": 103.38,
         "capacity_t_per_year": 10500, "technology_origin": "AU", "cahra": False}
    ],
}  # fmt: skip


def _errors(validator: Draft202012Validator, doc: object) -> list[str]:
    return [e.message for e in validator.iter_errors(doc)]


def test_schemas_are_valid_2020_12() -> None:
    for schema in (EVENT_SCHEMA, REGISTRY_SCHEMA):
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)


def test_schema_enums_match_the_code() -> None:
    defs = EVENT_SCHEMA["$defs"]
    assert EVENT_SCHEMA["properties"]["type"]["enum"] == list(EVENT_TYPES)
    assert [b["properties"]["type"]["const"] for b in EVENT_SCHEMA["oneOf"]] == list(EVENT_TYPES)
    assert defs["output"]["properties"]["form"]["enum"] == list(FORMS)
    assert defs["elements_kg"]["propertyNames"]["enum"] == list(ELEMENT_KEYS)
    transform = next(b for b in EVENT_SCHEMA["oneOf"] if b["title"] == "transform")
    assert transform["properties"]["process"]["enum"] == list(PROCESSES)
    assert REGISTRY_SCHEMA["$defs"]["stage"]["enum"] == list(STAGES)
    for name in (
        "participant", "key", "facility", "country", "stage", "id", "time", "licence",
        "accreditation", "audit",
    ):  # fmt: skip
        assert defs[name] == REGISTRY_SCHEMA["$defs"][name], name


def test_issue_registry_is_valid() -> None:
    assert _errors(REGISTRY, ISSUE_REGISTRY) == []
    parse_registry(ISSUE_REGISTRY)


@pytest.mark.parametrize("event", ISSUE_EVENTS, ids=lambda e: e["id"])
def test_issue_events_are_valid(event: dict[str, Any]) -> None:
    assert _errors(EVENTS, event) == []
    parse_event(event)


def test_registry_events_written_by_registry_load_are_valid() -> None:
    from raretrace.domain.registry import Registry
    from raretrace.ledger.service import registry_events

    events = registry_events(ISSUE_REGISTRY, Registry())
    assert [e["type"] for e in events] == ["participant", "facility"]
    for event in events:
        assert _errors(EVENTS, event) == []
        parse_event(event)


def test_demo_stream_is_valid() -> None:
    generate = pytest.importorskip(
        "raretrace.demo.generate", reason="raretrace.demo.generate is not importable yet"
    )
    from raretrace.demo.world import load_world, registry

    doc = registry(load_world())
    assert _errors(REGISTRY, doc) == []
    bad = []
    types = set()
    for event in generate.generate_events(2000):
        types.add(event["type"])
        if not EVENTS.is_valid(event):
            bad.append((event.get("id"), _errors(EVENTS, event)[:2]))
    assert bad == []
    assert {"extract", "ship", "receive", "transform"} <= types


# -- invalid documents: the schema refuses them, and so does the parser -------------------------


def _edit(event: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(event)
    target = out
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return out


E1, E2, E3, E4, E5 = ISSUE_EVENTS
CLAIM = {"id": "c1", "type": "claim", "time": "2025-01-27T00:00:00Z", "actor": "lynas-my",
         "lot": "NDPR-1", "scheme": "eu-crma-recycled-content", "share": 0.25}  # fmt: skip
INVALID_EVENTS = {
    "missing type": _edit(E2, ("type",), ...),
    "unknown type": _edit(E2, ("type",), "mint"),
    "missing time": _edit(E2, ("time",), ...),
    "numeric time": _edit(E2, ("time",), 1736064000),
    "empty actor": _edit(E2, ("actor",), ""),
    "ship without consignee": _edit(E2, ("consignee",), ...),
    "extract without outputs": _edit(E1, ("outputs",), []),
    "unknown form": _edit(E1, ("outputs", 0, "form"), "powder"),
    "zero mass": _edit(E1, ("outputs", 0, "mass_kg"), 0),
    "bool mass": _edit(E1, ("outputs", 0, "mass_kg"), True),
    "string mass": _edit(E1, ("outputs", 0, "mass_kg"), "1000"),
    "unknown element": _edit(E1, ("outputs", 0, "elements_kg", "Fe"), 3.0),
    "negative element": _edit(E1, ("outputs", 0, "elements_kg", "Nd"), -1.0),
    "output without elements": _edit(E1, ("outputs", 0, "elements_kg"), ...),
    "receive zero mass": _edit(E3, ("mass_kg",), 0.0),
    "unknown process": _edit(E4, ("process",), "smelting"),
    "transform without inputs": _edit(E4, ("inputs",), []),
    "input without mass": _edit(E4, ("inputs", 0, "mass_kg"), ...),
    "losses unknown element": _edit(E4, ("losses_kg", "Fe"), 1.0),
    "positive adjust": _edit(E5, ("mass_kg",), 1.0),
    "zero adjust": _edit(E5, ("mass_kg",), 0),
    "adjust without reason": _edit(E5, ("reason",), ...),
    "blank reason": _edit(E5, ("reason",), "  "),
    "lot heavier than MAX_LOT_KG": _edit(E1, ("outputs", 0, "mass_kg"), 1e308),
    "element heavier than MAX_LOT_KG": _edit(E1, ("outputs", 0, "elements_kg", "Nd"), 2e9),
    "input heavier than MAX_LOT_KG": _edit(E4, ("inputs", 0, "mass_kg"), 2e9),
    "receipt heavier than MAX_LOT_KG": _edit(E3, ("mass_kg",), 2e9),
    "loss heavier than MAX_LOT_KG": _edit(E4, ("losses_kg", "Nd"), 2e9),
    "adjustment beyond MAX_LOT_KG": _edit(E5, ("mass_kg",), -2e9),
    "bidi override in a lot id": _edit(E2, ("lot",), "MW\u202e-1"),
    "control character in the actor": _edit(E2, ("actor",), "lynas-au\n"),
    "zero-width space in an output lot": _edit(E1, ("outputs", 0, "lot"), "MW\u200b-1"),
    "blank event id": _edit(E2, ("id",), " "),
    "id longer than 200": _edit(E2, ("consignee",), "x" * 201),
    "space at the end of an input lot": _edit(E4, ("inputs", 0, "lot"), "MW-1 "),
    "claim of nothing": _edit(CLAIM, ("share",), 0),
    "claim of more than the lot": _edit(CLAIM, ("share",), 1.5),
    "claim share as text": _edit(CLAIM, ("share",), "0.5"),
    "claim share as bool": _edit(CLAIM, ("share",), True),
    "claim without scheme": _edit(CLAIM, ("scheme",), ...),
    "claim with a blank scheme": _edit(CLAIM, ("scheme",), " "),
    "claim without lot": _edit(CLAIM, ("lot",), ...),
    "participant not an object": {
        "id": "p",
        "type": "participant",
        "time": "2025-01-01T00:00:00Z",
        "actor": "registry",
        "participant": "lynas-my",
    },
}


@pytest.mark.parametrize("event", INVALID_EVENTS.values(), ids=INVALID_EVENTS.keys())
def test_invalid_events_fail_schema_and_parser(event: dict[str, Any]) -> None:
    assert _errors(EVENTS, event) != []
    with pytest.raises(ValidationError):
        parse_event(event)


def test_extra_fields_are_allowed_on_events() -> None:
    event = {**E2, "carrier": "MV Kuantan", "seal": {"no": 17}}
    assert _errors(EVENTS, event) == []


def test_claims_are_valid_up_to_the_whole_lot() -> None:
    for share in (0.25, 1, 1.0, 5e-324):
        event = _edit(CLAIM, ("share",), share)
        assert _errors(EVENTS, event) == []
        assert parse_event(event).share == share  # type: ignore[union-attr]


def test_receive_without_mass_is_valid() -> None:
    assert _errors(EVENTS, _edit(E3, ("mass_kg",), ...)) == []
    assert _errors(EVENTS, _edit(E3, ("mass_kg",), None)) == []


def _fac(**changes: Any) -> dict[str, Any]:
    return {**ISSUE_REGISTRY, "facilities": [{**ISSUE_REGISTRY["facilities"][0], **changes}]}


INVALID_REGISTRIES = {
    "unknown top-level key": {**ISSUE_REGISTRY, "permits": []},
    "participants not a list": {"participants": {}},
    "lower-case country": {"participants": [{"id": "p", "name": "P", "country": "my"}]},
    "three-letter country": {"participants": [{"id": "p", "name": "P", "country": "MYS"}]},
    "blank name": {"participants": [{"id": "p", "name": " ", "country": "MY"}]},
    "unknown stage": _fac(stage="smelter"),
    "empty stage list": _fac(stage=[]),
    "cahra null": _fac(cahra=None),
    "lat as text": _fac(lat="3.97"),
    "lat beyond the pole": _fac(lat=1e308),
    "lon beyond 180": _fac(lon=-180.5),
    "negative capacity": _fac(capacity_t_per_year=-5),
    "capacity beyond 10^9 t": _fac(capacity_t_per_year=2e9),
    "bidi isolate in a facility id": _fac(id="MY\u2067GEBENG"),
    "control character in an operator": _fac(operator="lynas-my\t"),
    "missing operator": {
        "facilities": [{"id": "F", "name": "F", "country": "MY", "stage": "mine"}]
    },
}


@pytest.mark.parametrize("doc", INVALID_REGISTRIES.values(), ids=INVALID_REGISTRIES.keys())
def test_invalid_registries_fail_schema_and_parser(doc: dict[str, Any]) -> None:
    assert _errors(REGISTRY, doc) != []
    with pytest.raises(ValidationError):
        parse_registry(doc)


def test_registry_records_allow_extra_fields_and_stage_lists() -> None:
    doc = _fac(stage=["separation", "recycling"], website="https://lynas.com", region=None)
    assert _errors(REGISTRY, doc) == []
    parse_registry(doc)


@pytest.mark.parametrize("country", ["A1", "M-"])
def test_parser_refuses_non_letter_country_codes(country: str) -> None:
    doc = {"participants": [{"id": "p", "name": "P", "country": country}]}
    assert _errors(REGISTRY, doc) != []
    with pytest.raises(ValidationError):
        parse_registry(doc)


def test_the_id_pattern_refuses_what_the_parser_refuses_in_the_basic_plane() -> None:
    """Every character of the Basic Multilingual Plane, inside an id and at its ends: the
    schema's id pattern and ``id_problem`` agree (lone surrogates aside: the parser refuses
    them, JSON Schema regexes differ on them)."""
    import re
    import unicodedata

    from raretrace.domain.ids import id_problem

    pattern = re.compile(REGISTRY_SCHEMA["$defs"]["id"]["pattern"])
    disagree = []
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        for value in (f"a{char}b", f"{char}ab", f"ab{char}"):
            if (pattern.search(value) is not None) != (id_problem(value) is None):
                disagree.append((f"U+{code:04X}", unicodedata.category(char), value))
    assert disagree == []
