"""The event parser: shapes, types, numbers and times, before any ledger state is consulted."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from examples import example_events
from raretrace.domain.errors import ValidationError
from raretrace.domain.events import (
    EVENT_TYPES,
    AdjustEvent,
    ExtractEvent,
    InputSpec,
    OutputSpec,
    ReceiveEvent,
    RegistryEvent,
    ShipEvent,
    TransformEvent,
    parse_event,
)

EXTRACT, SHIP, RECEIVE, _, ADJUST = example_events()
TRANSFORM = {
    "id": "e4",
    "type": "transform",
    "process": "separation",
    "time": "2025-01-25T00:00:00Z",
    "actor": "lynas-my",
    "facility": "MY-GEBENG",
    "inputs": [{"lot": "MW-1", "mass_kg": 999}],
    "outputs": [{"lot": "NDPR-1", "form": "oxide", "mass_kg": 105, "elements_kg": {"Nd": 69}}],
    "losses_kg": {"Nd": 0.93},
}
PARTICIPANT = {
    "id": "p1",
    "type": "participant",
    "time": "2025-01-01T00:00:00Z",
    "actor": "registry",
    "participant": {"id": "lynas-my", "name": "Lynas Malaysia", "country": "MY"},
}


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is ...:
            del out[key]
        else:
            out[key] = value
    return out


def rejected(obj: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        parse_event(obj)
    return info.value


# -- the seven types --------------------------------------------------------------------------


def test_event_types() -> None:
    assert EVENT_TYPES == (
        "extract",
        "ship",
        "receive",
        "transform",
        "adjust",
        "claim",
        "revocation",
        "participant",
        "facility",
        "licence",
        "accreditation",
        "audit",
        "licensing",
        "agreement",
        "agreement-review",
        "dispute",
        "statement",
        "ruling",
    )


def test_extract() -> None:
    event = parse_event(EXTRACT)
    assert isinstance(event, ExtractEvent)
    assert (event.id, event.type, event.actor, event.facility) == (
        "e1",
        "extract",
        "lynas-au",
        "AU-MTWELD",
    )
    assert event.time == "2025-01-05T08:00:00.000000Z"
    assert event.outputs == (
        OutputSpec(
            "MW-1",
            "concentrate",
            1000.0,
            {"La": 100.0, "Ce": 180.0, "Pr": 20.0, "Nd": 70.0, "Th": 1.2},
        ),
    )
    assert event.raw is EXTRACT


def test_ship_maps_from_and_to() -> None:
    event = parse_event(SHIP)
    assert isinstance(event, ShipEvent)
    assert (event.lot, event.origin, event.destination, event.consignee) == (
        "MW-1",
        "AU-MTWELD",
        "MY-GEBENG",
        "lynas-my",
    )


def test_receive_mass_is_optional() -> None:
    event = parse_event(RECEIVE)
    assert isinstance(event, ReceiveEvent) and event.mass_kg == 999.0
    for absent in (with_(RECEIVE, mass_kg=...), with_(RECEIVE, mass_kg=None)):
        event = parse_event(absent)
        assert isinstance(event, ReceiveEvent) and event.mass_kg is None


def test_transform_ints_become_floats() -> None:
    event = parse_event(TRANSFORM)
    assert isinstance(event, TransformEvent)
    assert event.process == "separation"
    assert event.inputs == (InputSpec("MW-1", 999.0),)
    assert type(event.inputs[0].mass_kg) is float
    assert type(event.outputs[0].elements_kg["Nd"]) is float
    assert event.losses_kg == {"Nd": 0.93}


def test_transform_losses_default_to_empty() -> None:
    event = parse_event(with_(TRANSFORM, losses_kg=...))
    assert isinstance(event, TransformEvent) and event.losses_kg == {}


def test_adjust() -> None:
    event = parse_event(ADJUST)
    assert isinstance(event, AdjustEvent)
    assert (event.lot, event.mass_kg, event.reason) == ("NDPR-1", -1.0, "sampling")


@pytest.mark.parametrize("kind", ["participant", "facility"])
def test_registry_events_carry_their_record(kind: str) -> None:
    record = {"id": "x"}
    obj = with_(PARTICIPANT, type=kind, participant=...)
    obj[kind] = record
    event = parse_event(obj)
    assert isinstance(event, RegistryEvent)
    assert event.record == record


def test_registry_event_without_record() -> None:
    exc = rejected(with_(PARTICIPANT, type="facility"))
    assert exc.rule == "format"
    assert "'facility'" in exc.detail


def test_extra_fields_are_allowed_and_kept() -> None:
    obj = with_(SHIP, carrier="MV Kuantan", note={"any": ["thing"]})
    assert parse_event(obj).raw["carrier"] == "MV Kuantan"


def test_zero_element_masses_are_dropped() -> None:
    obj = copy.deepcopy(EXTRACT)
    obj["outputs"][0]["elements_kg"] = {"Nd": 1.0, "Dy": 0, "Tb": 0.0}
    event = parse_event(obj)
    assert isinstance(event, ExtractEvent)
    assert event.outputs[0].elements_kg == {"Nd": 1.0}


# -- shapes and types ---------------------------------------------------------------------------


@pytest.mark.parametrize("obj", [[], "event", 3, None])
def test_event_must_be_an_object(obj: object) -> None:
    exc = rejected(obj)
    assert (exc.rule, exc.subject) == ("format", "event")


@pytest.mark.parametrize("event_id", [None, "", 7, ["e1"]])
def test_id_must_be_a_non_empty_string(event_id: object) -> None:
    exc = rejected(with_(SHIP, id=event_id))
    assert (exc.rule, exc.subject) == ("format", "event")
    assert repr(event_id) in exc.detail


@pytest.mark.parametrize("kind", [None, "Extract", "mint", 1])
def test_unknown_event_type(kind: object) -> None:
    exc = rejected(with_(SHIP, type=kind))
    assert exc.rule == "unknown-event-type"
    assert exc.subject == "event 'e2'"


@pytest.mark.parametrize(
    ("base", "field"),
    [
        (SHIP, "actor"),
        (SHIP, "lot"),
        (SHIP, "from"),
        (SHIP, "to"),
        (SHIP, "consignee"),
        (RECEIVE, "lot"),
        (RECEIVE, "facility"),
        (EXTRACT, "facility"),
        (TRANSFORM, "facility"),
        (ADJUST, "lot"),
    ],
)
@pytest.mark.parametrize("value", [..., "", 5, None])
def test_required_string_fields(base: dict[str, Any], field: str, value: object) -> None:
    exc = rejected(with_(base, **{field: value}))
    assert exc.rule == "format"
    assert f"{field!r}" in exc.detail


@pytest.mark.parametrize("outputs", [..., [], {}, "MW-1", [["MW-1"]]])
def test_outputs_must_be_a_non_empty_list_of_objects(outputs: object) -> None:
    exc = rejected(with_(EXTRACT, outputs=outputs))
    assert exc.rule == "format"
    assert "outputs" in exc.detail


@pytest.mark.parametrize("inputs", [..., [], "MW-1", ["MW-1"]])
def test_inputs_must_be_a_non_empty_list_of_objects(inputs: object) -> None:
    exc = rejected(with_(TRANSFORM, inputs=inputs))
    assert exc.rule == "format"
    assert "inputs" in exc.detail


def test_output_lot_must_be_a_string() -> None:
    obj = copy.deepcopy(EXTRACT)
    obj["outputs"][0]["lot"] = 1
    exc = rejected(obj)
    assert exc.rule == "format"
    assert exc.subject == "event 'e1' outputs[0]"


@pytest.mark.parametrize("form", [None, "Oxide", "powder"])
def test_unknown_form(form: object) -> None:
    obj = copy.deepcopy(EXTRACT)
    obj["outputs"][0]["form"] = form
    exc = rejected(obj)
    assert (exc.rule, exc.subject) == ("unknown-form", "lot 'MW-1'")


@pytest.mark.parametrize("process", [None, "smelting", "Separation"])
def test_unknown_process(process: object) -> None:
    exc = rejected(with_(TRANSFORM, process=process))
    assert exc.rule == "unknown-process"


@pytest.mark.parametrize("comp", [None, [], "Nd"])
def test_elements_kg_must_be_an_object(comp: object) -> None:
    obj = copy.deepcopy(EXTRACT)
    obj["outputs"][0]["elements_kg"] = comp
    exc = rejected(obj)
    assert exc.rule == "format"
    assert "elements_kg" in exc.detail


@pytest.mark.parametrize("key", ["nd", "ND", "Fe", "REO", ""])
def test_unknown_element_keys(key: str) -> None:
    obj = copy.deepcopy(EXTRACT)
    obj["outputs"][0]["elements_kg"][key] = 1.0
    exc = rejected(obj)
    assert exc.rule == "unknown-element"
    assert repr(key) in exc.detail


def test_unknown_element_in_losses() -> None:
    exc = rejected(with_(TRANSFORM, losses_kg={"Fe": 1.0}))
    assert (exc.rule, exc.subject) == ("unknown-element", "event 'e4'")


# -- numbers: bool is not a number, NaN and infinities are refused -------------------------------


@pytest.mark.parametrize("value", [True, False, "1000", None, [1000.0]])
def test_mass_must_be_a_number(value: object) -> None:
    obj = copy.deepcopy(EXTRACT)
    obj["outputs"][0]["mass_kg"] = value
    exc = rejected(obj)
    assert (exc.rule, exc.subject) == ("format", "lot 'MW-1'")


@pytest.mark.parametrize("value", [0, 0.0, -0.0, -1.0, math.nan, math.inf, -math.inf])
def test_mass_must_be_finite_and_positive(value: float) -> None:
    obj = copy.deepcopy(EXTRACT)
    obj["outputs"][0]["mass_kg"] = value
    exc = rejected(obj)
    assert (exc.rule, exc.subject) == ("mass-positive", "lot 'MW-1'")
    assert repr(value) in exc.detail


@pytest.mark.parametrize("value", [True, "5"])
def test_element_mass_must_be_a_number(value: object) -> None:
    obj = copy.deepcopy(EXTRACT)
    obj["outputs"][0]["elements_kg"]["Nd"] = value
    exc = rejected(obj)
    assert exc.rule == "format"
    assert "elements_kg['Nd']" in exc.detail


@pytest.mark.parametrize("value", [-0.1, math.nan, math.inf])
def test_element_mass_must_be_finite_and_not_negative(value: float) -> None:
    obj = copy.deepcopy(EXTRACT)
    obj["outputs"][0]["elements_kg"]["Nd"] = value
    exc = rejected(obj)
    assert exc.rule == "mass-positive"
    assert "elements_kg['Nd']" in exc.detail


@pytest.mark.parametrize("value", [True, 0, -1.0, math.nan, math.inf])
def test_input_mass(value: object) -> None:
    obj = with_(TRANSFORM, inputs=[{"lot": "MW-1", "mass_kg": value}])
    exc = rejected(obj)
    assert exc.rule in {"format", "mass-positive"}
    assert exc.rule == ("format" if value is True else "mass-positive")
    assert exc.subject == "lot 'MW-1'"


@pytest.mark.parametrize("value", [True, 0, -1.0, math.nan, "999"])
def test_received_mass(value: object) -> None:
    exc = rejected(with_(RECEIVE, mass_kg=value))
    assert exc.rule == ("format" if value in (True, "999") else "mass-positive")
    assert "received mass_kg" in exc.detail


@pytest.mark.parametrize("value", [True, False, 1, 0, -0.0, math.nan, -math.inf, "-1", None])
def test_adjust_mass_must_be_a_finite_negative_number(value: object) -> None:
    exc = rejected(with_(ADJUST, mass_kg=value))
    assert (exc.rule, exc.subject) == ("adjust-negative", "event 'e5'")


@pytest.mark.parametrize("reason", [..., "", "  ", 3])
def test_adjust_needs_a_reason(reason: object) -> None:
    exc = rejected(with_(ADJUST, reason=reason))
    assert exc.rule == "format"
    assert "reason" in exc.detail


def test_composition_exceeds_mass() -> None:
    obj = copy.deepcopy(EXTRACT)
    obj["outputs"][0]["mass_kg"] = 370.0
    exc = rejected(obj)
    assert (exc.rule, exc.subject) == ("composition-exceeds-mass", "lot 'MW-1'")
    assert "371.2 kg" in exc.detail and "370 kg" in exc.detail


def test_composition_equal_to_mass_within_rounding_is_accepted() -> None:
    obj = copy.deepcopy(EXTRACT)
    obj["outputs"][0]["mass_kg"] = 0.1 + 0.2  # elements below sum to 0.30000000000000004
    obj["outputs"][0]["elements_kg"] = {"Nd": 0.1, "Pr": 0.2}
    assert isinstance(parse_event(obj), ExtractEvent)


@pytest.mark.parametrize(("where", "base"), [("outputs", EXTRACT), ("inputs", TRANSFORM)])
def test_duplicate_lot(where: str, base: dict[str, Any]) -> None:
    obj = copy.deepcopy(base)
    obj[where].append(copy.deepcopy(obj[where][0]))
    exc = rejected(obj)
    assert exc.rule == "duplicate-lot"
    assert where in exc.detail and "MW-1" in exc.detail


# -- times ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        ("2025-01-05T08:00:00Z", "2025-01-05T08:00:00.000000Z"),
        ("2025-01-05T08:00:00+00:00", "2025-01-05T08:00:00.000000Z"),
        ("2025-01-05T08:00:00-00:00", "2025-01-05T08:00:00.000000Z"),
        ("2025-01-05T16:00:00+08:00", "2025-01-05T08:00:00.000000Z"),
        ("2025-01-05T02:30:00-05:30", "2025-01-05T08:00:00.000000Z"),
        ("2025-01-01T03:00:00+07:00", "2024-12-31T20:00:00.000000Z"),
        ("2025-01-05T08:00:00.5Z", "2025-01-05T08:00:00.500000Z"),
        ("2025-01-05T08:00:00.123456Z", "2025-01-05T08:00:00.123456Z"),
    ],
)
def test_times_are_normalized_to_utc(given: str, normalized: str) -> None:
    assert parse_event(with_(SHIP, time=given)).time == normalized


def test_normalized_times_sort_as_they_compare() -> None:
    times = ["2025-01-05T08:00:00.5Z", "2025-01-05T08:00:00Z", "2025-01-05T07:59:59.999999Z"]
    normalized = sorted(parse_event(with_(SHIP, time=t)).time for t in times)
    assert normalized == [
        "2025-01-05T07:59:59.999999Z",
        "2025-01-05T08:00:00.000000Z",
        "2025-01-05T08:00:00.500000Z",
    ]


@pytest.mark.parametrize("value", [None, 1736064000, ..., ["2025-01-05T08:00:00Z"]])
def test_time_must_be_a_string(value: object) -> None:
    exc = rejected(with_(SHIP, time=value))
    assert (exc.rule, exc.subject) == ("format", "event 'e2'")


@pytest.mark.parametrize(
    "value",
    ["", "yesterday", "2025-13-01T00:00:00Z", "2025-01-05T25:00:00Z", "05/01/2025", "2025-01-05"],
)
def test_bad_time(value: str) -> None:
    exc = rejected(with_(SHIP, time=value))
    assert (exc.rule, exc.subject) == ("bad-time", "event 'e2'")
    assert repr(value) in exc.detail


@pytest.mark.parametrize("value", ["2025-01-05T08:00:00", "2025-01-05T08:00:00.5"])
def test_time_without_zone_is_refused(value: str) -> None:
    exc = rejected(with_(SHIP, time=value))
    assert exc.rule == "bad-time"
    assert "no time zone" in exc.detail


@pytest.mark.parametrize(
    "value", ["20250105T080000Z", "2025-W02-1T08:00:00Z", "2025-01-05T08Z", "2025-01-05T08:00Z"]
)
def test_non_rfc3339_forms_are_refused(value: str) -> None:
    assert rejected(with_(SHIP, time=value)).rule == "bad-time"


def test_lower_case_z_is_accepted() -> None:
    assert parse_event(with_(SHIP, time="2025-01-05t08:00:00z")).time == (
        "2025-01-05T08:00:00.000000Z"
    )


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_time_out_of_range_after_utc_conversion_is_bad_time(value: str) -> None:
    assert rejected(with_(SHIP, time=value)).rule == "bad-time"


def test_normalized_time_is_fixed_width_for_early_years() -> None:
    assert parse_event(with_(SHIP, time="0999-01-01T00:00:00+00:00")).time == (
        "0999-01-01T00:00:00.000000Z"
    )
