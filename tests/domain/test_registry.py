"""``parse_registry``: the registry file's rules (shapes, countries, stages, operators, ids).

Licences, accreditations, audits and roles: tests/domain/test_licensing.py."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from raretrace.domain.errors import NotFound, ValidationError
from raretrace.domain.model import Facility, Participant
from raretrace.domain.registry import Registry, parse_facility, parse_participant, parse_registry

ISSUE_REGISTRY: dict[str, Any] = {
    "participants": [{"id": "lynas-my", "name": "Lynas Malaysia Sdn Bhd", "country": "MY"}],
    "facilities": [
        {
            "id": "MY-GEBENG",
            "name": "Lynas Malaysia, Gebeng",
            "operator": "lynas-my",
            "country": "MY",
            "region": "Pahang",
            "stage": "separation",
            "lat": 3.97,
            "lon": 103.38,
            "capacity_t_per_year": 10500,
            "technology_origin": "AU",
            "cahra": False,
        }
    ],
}


def facility(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(ISSUE_REGISTRY["facilities"][0])
    for key, value in changes.items():
        if value is ...:
            del out[key]
        else:
            out[key] = value
    return out


def doc_with(fac: dict[str, Any]) -> dict[str, Any]:
    return {"participants": ISSUE_REGISTRY["participants"], "facilities": [fac]}


def rejected(doc: object, known: Registry | None = None) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        parse_registry(doc, known)
    return info.value


def test_issue_registry() -> None:
    participants, facilities = parse_registry(ISSUE_REGISTRY)
    assert participants == [Participant("lynas-my", "Lynas Malaysia Sdn Bhd", "MY")]
    assert facilities == [
        Facility(
            id="MY-GEBENG",
            name="Lynas Malaysia, Gebeng",
            operator="lynas-my",
            country="MY",
            stages=("separation",),
            technology_origin="AU",
            cahra=False,
            region="Pahang",
            lat=3.97,
            lon=103.38,
            capacity_t_per_year=10500.0,
        )
    ]
    assert facilities[0].stage == "separation"


def test_minimal_facility_defaults() -> None:
    fac = {"id": "F", "name": "F", "operator": "lynas-my", "country": "VN", "stage": "mine"}
    (_, [parsed]) = parse_registry(doc_with(fac))
    assert parsed.technology_origin == "VN"  # defaults to the facility's country
    assert (parsed.cahra, parsed.region, parsed.lat, parsed.lon) == (False, "", None, None)
    assert parsed.capacity_t_per_year is None


def test_empty_and_partial_documents() -> None:
    assert parse_registry({}) == ([], [])
    assert parse_registry({"participants": []}) == ([], [])


def test_extra_record_fields_are_ignored() -> None:
    (_, [parsed]) = parse_registry(doc_with(facility(website="https://lynas.com")))
    assert parsed.id == "MY-GEBENG"


def test_operator_may_be_already_known() -> None:
    known = Registry()
    known.add(Participant("lynas-my", "Lynas", "MY"))
    participants, facilities = parse_registry({"facilities": [facility()]}, known)
    assert participants == [] and facilities[0].operator == "lynas-my"


def test_several_stages() -> None:
    (_, [parsed]) = parse_registry(doc_with(facility(stage=["separation", "recycling"])))
    assert parsed.stages == ("separation", "recycling")
    assert parsed.stage == "separation"
    assert parsed.process_allowed("recycling") and parsed.process_allowed("separation")
    assert not parsed.process_allowed("magnet")


# -- registry-format --------------------------------------------------------------------------


@pytest.mark.parametrize("doc", [[], "registry", None])
def test_document_must_be_an_object(doc: object) -> None:
    exc = rejected(doc)
    assert (exc.rule, exc.subject) == ("registry-format", "registry")


def test_unknown_top_level_keys() -> None:
    exc = rejected({**ISSUE_REGISTRY, "permits": []})
    assert exc.rule == "registry-format"
    assert "['permits']" in exc.detail
    assert "'licences'" in exc.detail  # names the keys it accepts


@pytest.mark.parametrize("key", ["participants", "facilities"])
def test_sections_must_be_lists(key: str) -> None:
    exc = rejected({key: {}})
    assert exc.rule == "registry-format"
    assert repr(key) in exc.detail


@pytest.mark.parametrize("field", ["id", "name", "country"])
@pytest.mark.parametrize("value", [..., None, "", "  ", 3])
def test_participant_required_fields(field: str, value: object) -> None:
    record: dict[str, Any] = {"id": "p", "name": "P", "country": "MY"}
    if value is ...:
        del record[field]
    else:
        record[field] = value
    exc = rejected({"participants": [record]})
    assert exc.rule == "registry-format"
    assert repr(field) in exc.detail


@pytest.mark.parametrize("country", ["my", "MYS", "Malaysia", "M", "É1"])
def test_country_must_be_alpha_2(country: str) -> None:
    exc = rejected({"participants": [{"id": "p", "name": "P", "country": country}]})
    assert (exc.rule, exc.subject) == ("registry-format", "participant 'p'")
    assert "ISO 3166-1 alpha-2" in exc.detail and repr(country) in exc.detail


def test_participant_must_be_an_object() -> None:
    assert rejected({"participants": ["lynas"]}).subject == "participant"
    with pytest.raises(ValidationError):
        parse_participant(None)


@pytest.mark.parametrize("field", ["id", "name", "operator", "country"])
def test_facility_required_fields(field: str) -> None:
    exc = rejected(doc_with(facility(**{field: ...})))
    assert exc.rule == "registry-format"
    assert repr(field) in exc.detail


@pytest.mark.parametrize("tech", ["au", "AUS", ""])
def test_technology_origin_must_be_alpha_2(tech: str) -> None:
    exc = rejected(doc_with(facility(technology_origin=tech)))
    assert exc.rule == "registry-format"
    assert "'technology_origin'" in exc.detail


@pytest.mark.parametrize("cahra", [None, "no", 0, 1])
def test_cahra_must_be_boolean(cahra: object) -> None:
    exc = rejected(doc_with(facility(cahra=cahra)))
    assert (exc.rule, exc.subject) == ("registry-format", "facility 'MY-GEBENG'")
    assert "'cahra'" in exc.detail


@pytest.mark.parametrize("field", ["lat", "lon", "capacity_t_per_year"])
@pytest.mark.parametrize("value", [True, "3.9", math.nan, math.inf, [1]])
def test_numbers_must_be_finite(field: str, value: object) -> None:
    exc = rejected(doc_with(facility(**{field: value})))
    assert exc.rule == "registry-format"
    assert repr(field) in exc.detail


@pytest.mark.parametrize("field", ["lat", "lon", "capacity_t_per_year"])
def test_numbers_may_be_null_or_absent(field: str) -> None:
    for value in (None, ...):
        (_, [parsed]) = parse_registry(doc_with(facility(**{field: value})))
        assert getattr(parsed, field) is None


@pytest.mark.parametrize("region", [None, ""])
def test_region_is_optional(region: object) -> None:
    (_, [parsed]) = parse_registry(doc_with(facility(region=region)))
    assert parsed.region == ""


@pytest.mark.parametrize("region", ["  ", 7])
def test_region_when_given_must_be_text(region: object) -> None:
    assert rejected(doc_with(facility(region=region))).rule == "registry-format"


@pytest.mark.parametrize("stage", [..., None, [], 3, {"mine": True}])
def test_stage_shape(stage: object) -> None:
    exc = rejected(doc_with(facility(stage=stage)))
    assert exc.rule == "registry-format"
    assert "'stage'" in exc.detail


@pytest.mark.parametrize("stage", ["smelter", "Separation", ["mine", "port"]])
def test_unknown_stage(stage: object) -> None:
    exc = rejected(doc_with(facility(stage=stage)))
    assert (exc.rule, exc.subject) == ("unknown-stage", "facility 'MY-GEBENG'")
    assert "is not one of mine, concentrator" in exc.detail


def test_unknown_operator() -> None:
    exc = rejected(doc_with(facility(operator="ghost")))
    assert (exc.rule, exc.subject) == ("unknown-participant", "facility 'MY-GEBENG'")
    assert "'ghost'" in exc.detail


def test_facility_must_be_an_object() -> None:
    exc = rejected({"facilities": [["MY-GEBENG"]]})
    assert (exc.rule, exc.subject) == ("registry-format", "facility")
    with pytest.raises(ValidationError):
        parse_facility("MY-GEBENG", {})


def test_duplicate_ids() -> None:
    p = ISSUE_REGISTRY["participants"][0]
    exc = rejected({"participants": [p, p]})
    assert (exc.rule, exc.subject) == ("registry-format", "participant 'lynas-my'")
    assert "appears twice" in exc.detail
    exc = rejected({**ISSUE_REGISTRY, "facilities": [facility(), facility(name="Other")]})
    assert (exc.rule, exc.subject) == ("registry-format", "facility 'MY-GEBENG'")


def test_registry_lookup_and_replace() -> None:
    reg = Registry()
    with pytest.raises(NotFound) as info:
        reg.facility("MY-GEBENG")
    assert "raretrace registry load" in info.value.message
    reg.add(Participant("lynas-my", "Lynas", "MY"))
    reg.add(Participant("lynas-my", "Lynas Malaysia", "MY"))
    assert reg.participants["lynas-my"].name == "Lynas Malaysia"
    (_, [fac]) = parse_registry({"facilities": [facility()]}, reg)
    reg.add(fac)
    assert reg.facility("MY-GEBENG") is fac
