"""The VC 2.0 JSON Schema ships in the package and judges credentials as the W3C's does."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest
from credential_support import VECTORS, credential

from raretrace.credentials import check_data_model, check_validity, credential_issuer
from raretrace.credentials.datamodel import SCHEMA_FILE, parse_datetime
from raretrace.domain.errors import VerificationError

EXAMPLES = sorted(
    (VECTORS / "w3c-vc-data-model" / "schema" / "verifiable-credential").glob("*.json")
)
SHARED = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "w3c-vc-data-model"


def test_the_w3c_examples_are_all_here() -> None:
    assert len(EXAMPLES) == 9


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_w3c_example_credential_conforms(path: Path) -> None:
    check_data_model(json.loads(path.read_text(encoding="utf-8")))


def test_the_packaged_schema_is_the_w3cs_byte_for_byte() -> None:
    packaged = (files("raretrace") / "schemas" / SCHEMA_FILE).read_bytes()
    assert json.loads(packaged)["$id"].endswith("/verifiable-credential-schema.json")
    shared = SHARED / "schema" / "verifiable-credential" / SCHEMA_FILE
    if shared.exists():  # beside the repository on the project's machines
        assert packaged == shared.read_bytes()
    licence = files("raretrace") / "schemas" / "verifiable-credential-schema.LICENSE.md"
    assert "W3C Software and Document License" in licence.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda c: c.update({"@context": ["https://www.w3.org/2018/credentials/v1"]}), "@context"),
        (lambda c: c.update(type=["AlumniCredential"]), "type"),
        (lambda c: c.pop("credentialSubject"), "top level"),
        (lambda c: c.update(validFrom="2026-01-01"), "validFrom"),
        (lambda c: c.update(credentialStatus={"id": "x"}), "credentialStatus"),
    ],
)
def test_a_credential_outside_the_model_is_named(change: object, where: str) -> None:
    doc = credential("did:web:council.example")
    change(doc)  # type: ignore[operator]
    with pytest.raises(VerificationError, match=f"VC 2.0.*{where}"):
        check_data_model(doc)


def test_issuer_may_be_a_string_or_an_object() -> None:
    assert (
        credential_issuer({"issuer": {"id": "did:web:a.example", "name": "A"}})
        == "did:web:a.example"
    )
    with pytest.raises(VerificationError, match="no issuer"):
        credential_issuer({"issuer": {"name": "A"}})


def test_validity_period_boundaries() -> None:
    doc = credential("did:web:council.example")
    assert "valid from" in check_validity(doc, parse_datetime("2026-01-01T00:00:00Z", "t"), "c")
    assert check_validity(doc, parse_datetime("2027-01-01T01:00:00+01:00", "t"), "c")
    with pytest.raises(VerificationError, match="not yet valid"):
        check_validity(doc, parse_datetime("2025-12-31T23:59:59Z", "t"), "c")
    with pytest.raises(VerificationError, match="expired"):
        check_validity(doc, parse_datetime("2027-01-01T00:00:01Z", "t"), "c")


def test_date_times_need_a_time_zone_and_24h_means_the_next_day() -> None:
    with pytest.raises(VerificationError, match="time zone"):
        parse_datetime("2026-01-01T00:00:00", "validFrom")
    end = parse_datetime("2026-01-31T24:00:00Z", "validUntil")
    assert end == parse_datetime("2026-02-01T00:00:00Z", "x")
