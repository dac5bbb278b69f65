"""``raretrace untp dte``: a UNTP DigitalTraceabilityEvent credential of a lot's lineage,
secured like the certificates (VC-JOSE or eddsa-jcs-2022) and valid under the VC 2.0 schema;
its events carry the same lots and kg as the EPCIS export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli_support import run
from raretrace.credentials import build_trust, check_data_model, verify_credential
from raretrace.credentials.securing import decode_unverified
from raretrace.store.store import Store

pytestmark = pytest.mark.integration


def ok(*args: str, cwd: Path) -> str:
    done = run(*args, cwd=cwd)
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


@pytest.mark.parametrize("fmt", ["jose", "di"])
def test_a_lots_events_as_a_signed_dte(demo: Path, fmt: str) -> None:
    if not (demo / "dte-issuer.key").exists():
        ok("issuer", "keygen", "--did", "did:web:council.example", "--out", "dte-issuer.key",
           cwd=demo)  # fmt: skip
    did_doc = json.loads(ok("issuer", "did-document", "--key", "dte-issuer.key", cwd=demo))
    store = Store.open(str(demo / "ledger.db"), access="read")
    lot = next(iter(store.lots(form="magnet")))
    store.close()
    out = f"dte-{fmt}.txt"
    said = ok("--db", "ledger.db", "untp", "dte", "--lot", lot.id, "--issuer-key",
              "dte-issuer.key", "--format", fmt, "--out", out, cwd=demo)  # fmt: skip
    assert f"secured as {fmt}" in said
    text = (demo / out).read_text()
    report = verify_credential(
        text, trust=build_trust([("did.json", did_doc)]), at=datetime.now(UTC)
    )
    credential = report.require_valid()
    assert credential == decode_unverified(text)
    check_data_model(credential)
    assert credential["type"] == ["VerifiableCredential", "DigitalTraceabilityEvent"]
    assert credential["@context"][1] == "https://test.uncefact.org/vocabulary/untp/dte/0.6.0/"
    events = credential["credentialSubject"]
    kinds = [e["type"][0] for e in events]
    assert kinds[0] == "ObjectEvent" and events[0]["action"] == "Add"
    assert "TransformationEvent" in kinds and "TransactionEvent" in kinds
    ship = next(e for e in events if e["type"][0] == "TransactionEvent")
    assert ship["sourcePartyId"].startswith("urn:raretrace:participant:")
    assert ship["bizStep"] == "https://ref.gs1.org/cbv/BizStep-shipping"

    ok("--db", "ledger.db", "epcis", "export", "--lot", lot.id, "--out", "dte-lot.jsonld",
       cwd=demo)  # fmt: skip
    epcis = json.loads((demo / "dte-lot.jsonld").read_text())["epcisBody"]["eventList"]
    assert [e["raretraceEventId"] for e in events] == [
        e["rt:eventID"] for e in epcis if e["bizStep"] != "urn:raretrace:epcis:bizstep:claiming"
    ]
    for dte, ours in zip(events, epcis, strict=False):
        lists = ("quantityList", "inputQuantityList", "outputQuantityList")
        for key in lists:
            if key in ours:
                assert [q["quantity"] for q in dte[key]] == [q["quantity"] for q in ours[key]]


def test_no_events_is_refused_and_writes_nothing(demo: Path) -> None:
    if not (demo / "dte-issuer.key").exists():
        ok("issuer", "keygen", "--did", "did:web:council.example", "--out", "dte-issuer.key",
           cwd=demo)  # fmt: skip
    done = run("--db", "ledger.db", "untp", "dte", "--from", "2001-01-01", "--to", "2001-01-02",
               "--issuer-key", "dte-issuer.key", "--out", "none.jwt", cwd=demo)  # fmt: skip
    assert done.returncode == 2 and not (demo / "none.jwt").exists()
    assert done.stderr.startswith("error: no custody events in the period 2001-01-01")
