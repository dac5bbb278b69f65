# ruff: noqa: E501 (the pinned messages read best whole)
"""``raretrace epcis import``'s mapping over the openEPCIS sets: every valid document maps or
is refused with a reason per event; every invalid one is refused naming its schema error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from raretrace.domain.errors import ValidationError
from raretrace.domain.events import parse_event
from raretrace.interop import epcis_schema
from raretrace.interop.epcis_import import event_list, import_document, short_word
from raretrace.interop.epcis_mapping import parse_mapping

CAPTURE = (
    Path(__file__).resolve().parents[1]
    / "vectors" / "openepcis-test-resources" / "2.0" / "EPCIS" / "JSON" / "Capture"
)  # fmt: skip
VALID = sorted((CAPTURE / "Documents").glob("*.json")) + sorted((CAPTURE / "Events").glob("*.json"))
INVALID = sorted((CAPTURE / "Invalid").glob("*.json"))
#: The one valid-set file that is not a valid document (see the vectors' SOURCES.md).
NOT_A_DOCUMENT = "SensorData_with_combined_events.json"
#: Events that would change custody or mass but name GS1 keys no mapping was given for.
REFUSED = {
    "ObjectEvent_with_digitalLink.json": [0],
    "ObjectEvent_with_userExtensions.json": [1],
    "TransformationEvent_with_error_declaration.json": [1],
}
#: The first schema error of each invalid document.
SCHEMA_ERRORS = {
    "Combination_of_events_with_missing_mandatory_fields.json": "at epcisBody/eventList/1: 'eventTimeZoneOffset' is a required property",
    "Combination_of_multiple_invalid_fields.json": "at epcisBody/eventList/4/eventTime: '22-07-2026' is not a 'date-time'",
    "Combination_of_non_standard_bizStep_and_disposition.json": "at epcisBody/eventList/1/disposition: 'in_transport' is neither a CBV 2.0 disposition word",
    "EPCISDocument_without_context.json": "at (top level): '@context' is a required property",
    "ObjectEvent_with_ilmd_field_without_namespace.json": "at epcisBody/eventList/0/ilmd: 'materialType' is not a 'uri'",
    "ObjectEvent_with_invalid_action.json": "at epcisBody/eventList/0/action: 'CREATE' is not one of ['OBSERVE', 'ADD', 'DELETE']",
    "ObjectEvent_with_invalid_certificationInfo.json": "at epcisBody/eventList/0/certificationInfo/0: {'gs1:CertificationDetails'",
    "ObjectEvent_with_invalid_eventTime_format.json": "at epcisBody/eventList/0/eventTime: '22-07-2026' is not a 'date-time'",
    "ObjectEvent_with_non_standard_bizStep.json": "at epcisBody/eventList/0/bizStep: 'transforming' is neither a CBV 2.0 bizStep word",
    "ObjectEvent_with_non_standard_bizStep_in_second_event.json": "at epcisBody/eventList/1/bizStep: 'transforming' is neither",
    "ObjectEvent_with_non_standard_disposition.json": "at epcisBody/eventList/0/disposition: 'in_transport' is neither",
    "ObjectEvent_with_quantity_as_text.json": "at epcisBody/eventList/0/quantityList/0/quantity: 'twenty' is not of type 'number'",
    "ObjectEvent_with_unknown_field_in_quantityList.json": "at epcisBody/eventList/0/quantityList/0: Additional properties are not allowed ('weight' was unexpected)",
    "ObjectEvent_without_action_and_eventTime.json": "at epcisBody/eventList/0: 'eventTime' is a required property",
    "ObjectEvent_without_identifier_list.json": "at epcisBody/eventList/0: 'epcList' is a required property",
}  # fmt: skip


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_sets_are_all_here() -> None:
    assert (len(VALID), len(INVALID)) == (43, 15)
    assert {p.name for p in INVALID} == set(SCHEMA_ERRORS)


@pytest.mark.parametrize("path", VALID, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_valid_document_maps_or_is_refused_with_a_reason_per_event(path: Path) -> None:
    document = _load(path)
    if path.name == NOT_A_DOCUMENT:
        with pytest.raises(ValidationError, match="sensorReport/1: 'type' is a required"):
            epcis_schema.check_document(document, path.name)
        return
    epcis_schema.check_document(document, path.name)
    imported = import_document(document)
    assert [o.index for o in imported.outcomes] == list(range(len(event_list(document))))
    refused = [o.index for o in imported.outcomes if o.status == "refused"]
    assert refused == REFUSED.get(path.name, [])
    for outcome in imported.outcomes:
        assert outcome.status in ("skipped", "refused")
        assert len(outcome.reason) > 30, outcome
        if outcome.status == "skipped":
            assert outcome.reason.endswith("; skipped")
        else:
            assert "add it under" in outcome.reason
        if outcome.epcis_type == "AggregationEvent":
            assert "packing or unpacking has no mass-balance meaning" in outcome.reason


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_every_invalid_document_is_refused_naming_its_schema_error(path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        epcis_schema.check_document(_load(path), path.name)
    assert caught.value.rule == "epcis-schema"
    assert SCHEMA_ERRORS[path.name] in caught.value.message


def test_a_mapping_turns_the_refused_events_into_raretrace_events() -> None:
    mapping = parse_mapping(
        {
            "lots": {
                "urn:epc:class:lgtin:4023333.002000.2019-10-07": {
                    "lot": "LOT-150", "form": "concentrate", "composition": {"Nd": 0.1, "Pr": 0.03}
                }
            },
            "locations": {
                "urn:epc:id:sgln:0614141.07346.1234": {"facility": "AU-MINE", "operator": "miner"}
            },
        }
    )  # fmt: skip
    imported = import_document(_load(CAPTURE / "Documents" / REFUSED_DOC), mapping)
    statuses = [o.status for o in imported.outcomes]
    assert statuses == ["skipped", "mapped"]
    (event,) = imported.events
    assert event["type"] == "extract" and event["actor"] == "miner"
    assert event["facility"] == "AU-MINE"
    assert event["outputs"] == [
        {"lot": "LOT-150", "form": "concentrate", "mass_kg": 150.0,
         "elements_kg": {"Nd": 15.0, "Pr": 4.5}}
    ]  # fmt: skip
    assert event["time"] == "2005-04-03T20:33:31.116-06:00"
    parse_event(event)


REFUSED_DOC = "ObjectEvent_with_userExtensions.json"


def test_a_mapping_file_is_checked() -> None:
    with pytest.raises(ValidationError, match="unknown field"):
        parse_mapping({"lots": {}, "places": {}})
    with pytest.raises(ValidationError, match=r"composition\['Nd'\] must be kg per kg"):
        parse_mapping({"lots": {"x:1": {"lot": "L", "composition": {"Nd": 7}}}})
    with pytest.raises(ValidationError, match="process 'smelting' is not one of"):
        parse_mapping({"locations": {"x:1": {"facility": "F", "process": "smelting"}}})


@pytest.mark.parametrize(
    ("spelling", "word"),
    [("shipping", "shipping"), ("cbv:BizStep-shipping", "shipping"),
     ("https://ref.gs1.org/cbv/BizStep-receiving", "receiving"),
     ("urn:epcglobal:cbv:bizstep:receiving", "receiving"),
     ("https://example.com/bizStep/inspecting", "https://example.com/bizStep/inspecting")],
)  # fmt: skip
def test_cbv_words_are_read_in_every_spelling(spelling: str, word: str) -> None:
    assert short_word(spelling) == word
