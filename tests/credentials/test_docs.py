"""The examples in docs/credentials.md are real: they verify, and say what the text says."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

from credential_support import make_issuers
from untp_example import example_dcc, example_dcc_file, example_dpp

from raretrace.credentials import build_trust, check_data_model, verify_credential
from raretrace.credentials.datamodel import parse_datetime

DOC = Path(__file__).resolve().parents[2] / "docs" / "credentials.md"


def _examples() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    found = re.findall(r"<!-- example: (\S+) -->\n```\w+\n(.*?)\n```", text, re.S)
    return dict(found)


def test_the_documented_did_document_is_the_test_councils() -> None:
    assert json.loads(_examples()["did.json"]) == make_issuers().council_doc


def test_the_documented_credentials_verify_against_the_documented_did_json() -> None:
    examples = _examples()
    trust = build_trust([("did.json", json.loads(examples["did.json"]))])
    at = parse_datetime("2026-06-02T00:00:00Z", "at")
    lists = [("revocation.jwt", examples["revocation.jwt"])]
    for name in ("credential.jwt", "credential.json"):
        report = verify_credential(examples[name], trust=trust, at=at, status_lists=lists)
        assert report.valid, (name, report.to_json()["checks"])
        assert "index 94567" in report.checks[-1].detail


def test_the_documented_header_and_payload_are_the_jws_parts() -> None:
    text = DOC.read_text(encoding="utf-8")
    token = _examples()["credential.jwt"]
    header, payload = (json.loads(base64.urlsafe_b64decode(p + "==")) for p in token.split(".")[:2])
    assert json.dumps(header, indent=2) in text
    assert json.dumps(payload, indent=2) in text


def test_the_documented_passport_and_dcc_are_what_the_builders_make() -> None:
    examples = _examples()
    assert json.loads(examples["dpp.json"]) == example_dpp()
    assert json.loads(examples["dcc.json"]) == example_dcc()


def test_the_documented_passport_is_a_vc_and_its_numbers_add_up() -> None:
    dpp = json.loads(_examples()["dpp.json"])
    check_data_model(dpp)
    materials = dpp["credentialSubject"]["materialsProvenance"]
    nd = {
        m["originCountry"]["countryCode"]: m for m in materials if m["materialType"]["code"] == "Nd"
    }
    assert nd["AU"]["mass"]["value"] == 17.7 and nd["AU"]["recycledMassFraction"] == 0
    assert nd["MY"]["mass"]["value"] == 11.8 and nd["MY"]["recycledMassFraction"] == 1
    assert [m["hazardous"] for m in materials if m["materialType"]["code"] == "Th"] == [True]
    claim = dpp["credentialSubject"]["conformityClaim"][0]["conformityEvidence"]
    assert claim["hashDigest"] == hashlib.sha256(example_dcc_file().encode()).hexdigest()
