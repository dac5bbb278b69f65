"""The EPCIS 2.0 JSON Schema the package ships: GS1's file unchanged, the amendments that
bring the draft to the ratified text (each one needed, none loosening what GS1 refuses), and
the GS1 examples."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest

from raretrace.domain.errors import ValidationError
from raretrace.interop import epcis_schema

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
GS1 = VECTORS / "gs1-epcis"
CAPTURE = VECTORS / "openepcis-test-resources" / "2.0" / "EPCIS" / "JSON" / "Capture"


def _load(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("shipped", "upstream"),
    [("epcis-json-schema.json", "EPCIS-JSON-Schema.json"),
     ("epcis-context.json", "epcis-context.jsonld")],
)  # fmt: skip
def test_the_package_ships_gs1s_files_unchanged(shipped: str, upstream: str) -> None:
    ours = (files("raretrace") / "schemas" / shipped).read_bytes()
    assert ours == (GS1 / upstream).read_bytes()
    assert (files("raretrace") / "schemas" / "epcis-json-schema.LICENSE.md").is_file()


@pytest.mark.parametrize("name", sorted(p.name for p in (GS1 / "JSON").glob("*.jsonld")))
def test_gs1_examples_conform(name: str) -> None:
    document = _load(GS1 / "JSON" / name)
    assert epcis_schema.schema_errors(document) == []


#: Per amendment, a valid openEPCIS document that the draft refuses without it.
NEEDS = {
    "quantity-optional": "Events/TransformationEvent.json",
    "cbv-2.0-words": "Documents/ObjectEvent_with_persistentDisposition.json",
    "measurement-types": "Documents/TransactionEvent_with_userExtensions.json",
    "certification-info": "Documents/TransformationEvent_all_possible_fields.json",
}


@pytest.mark.parametrize("amendment", [a.name for a in epcis_schema.AMENDMENTS])
def test_each_amendment_is_needed_by_a_valid_document(amendment: str) -> None:
    document = _load(CAPTURE / NEEDS[amendment])
    without = epcis_schema.validator(epcis_schema.amended_schema(skip=[amendment]))
    assert epcis_schema.schema_errors(document, without)
    assert epcis_schema.schema_errors(document) == []


def test_the_amendments_keep_refusing_what_the_ratified_text_refuses() -> None:
    for name, where in [
        ("ObjectEvent_with_unknown_field_in_quantityList.json", "quantityList/0"),
        ("ObjectEvent_with_invalid_certificationInfo.json", "certificationInfo/0"),
        ("ObjectEvent_with_non_standard_disposition.json", "disposition"),
    ]:
        errors = epcis_schema.schema_errors(_load(CAPTURE / "Invalid" / name))
        assert errors and where in errors[0], (name, errors[:1])


def test_check_document_names_the_path_and_the_count() -> None:
    with pytest.raises(ValidationError) as caught:
        epcis_schema.check_document(
            _load(CAPTURE / "Invalid" / "ObjectEvent_with_quantity_as_text.json"), "doc.json"
        )
    assert caught.value.rule == "epcis-schema"
    assert caught.value.message == (
        "[epcis-schema] doc.json: not a valid EPCIS 2.0 document (GS1 EPCIS JSON Schema): at"
        " epcisBody/eventList/0/quantityList/0/quantity: 'twenty' is not of type 'number';"
        " correct the document (docs/interchange.md lists what raretrace checks)"
    )
