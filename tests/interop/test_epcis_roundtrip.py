"""Ledger → EPCIS → events → a fresh ledger gives the same lots, masses and origin; every
export validates against GS1's schema as published (no amendment) and as amended."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cli_support import run
from raretrace.domain.views import lot_view
from raretrace.interop import epcis_schema
from raretrace.store.store import Store

pytestmark = pytest.mark.integration


def ok(*args: str, cwd: Path) -> str:
    done = run(*args, cwd=cwd)
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


def _views(db: Path) -> dict[str, dict[str, Any]]:
    store = Store.open(str(db), access="read")
    try:
        return {lot.id: lot_view(lot) for lot in store.lots()}
    finally:
        store.close()


def _strict_errors(document: object) -> list[str]:
    return epcis_schema.schema_errors(document, epcis_schema.validator(epcis_schema.draft_schema()))


def test_the_whole_ledger_goes_round_trip(demo: Path) -> None:
    said = ok("--db", "ledger.db", "epcis", "export", "--out", "all.jsonld", cwd=demo)
    assert "checked against the EPCIS 2.0 JSON Schema" in said
    document = json.loads((demo / "all.jsonld").read_text())
    assert document["type"] == "EPCISDocument" and document["schemaVersion"] == "2.0"
    assert _strict_errors(document) == [] and epcis_schema.schema_errors(document) == []
    kinds = {(e["type"], e.get("bizStep")) for e in document["epcisBody"]["eventList"]}
    wanted = {("ObjectEvent", "commissioning"), ("ObjectEvent", "shipping"),
              ("ObjectEvent", "receiving"), ("TransformationEvent", "commissioning")}  # fmt: skip
    assert wanted <= kinds

    said = ok("epcis", "import", "all.jsonld", "--out", "events.jsonl", cwd=demo)
    assert "0 skipped, 0 refused" in said
    keys = [a for k in sorted((demo / "inputs" / "keys").glob("*.key")) for a in ("--key", str(k))]
    (demo / "signed.jsonl").write_text(ok("sign", "events.jsonl", *keys, cwd=demo))
    ok("--db", "fresh.db", "init", "--log-dir", "fresh-log", cwd=demo)
    ok("--db", "fresh.db", "registry", "load", "inputs/registry.json", cwd=demo)
    ingested = ok("--db", "fresh.db", "ingest", "signed.jsonl", cwd=demo)
    assert "rejected 0" in ingested

    before, after = _views(demo / "ledger.db"), _views(demo / "fresh.db")
    assert set(before) == set(after) and len(before) > 50
    for lot_id, view in before.items():
        again = after[lot_id]
        for key in ("form", "status", "mass_kg", "elements_kg", "custodian", "facility", "origin"):
            assert (
                again[key] == pytest.approx(view[key])
                if key == "mass_kg"
                else (again[key] == view[key])
            ), (lot_id, key)


def test_a_lots_lineage_exports_with_master_data(demo: Path) -> None:
    store = Store.open(str(demo / "ledger.db"), access="read")
    lot = next(lot for lot in store.lots(form="magnet"))
    store.close()
    ok("--db", "ledger.db", "epcis", "export", "--lot", lot.id, "--out", "lot.jsonld", cwd=demo)
    document = json.loads((demo / "lot.jsonld").read_text())
    assert _strict_errors(document) == []
    events = document["epcisBody"]["eventList"]
    assert events[0]["bizStep"] == "commissioning" and events[0]["action"] == "ADD"
    assert any(e["type"] == "TransformationEvent" for e in events)
    vocabularies = document["epcisHeader"]["epcisMasterData"]["vocabularyList"]
    classes = {v["type"]: v["vocabularyElementList"] for v in vocabularies}
    ids = [c["id"] for c in classes["urn:epcglobal:epcis:vtype:EPCClass"]]
    assert f"urn:raretrace:lot:{lot.id}" in ids
    mine = {a["id"]: a["attribute"] for c in classes["urn:epcglobal:epcis:vtype:EPCClass"]
            if c["id"] == f"urn:raretrace:lot:{lot.id}" for a in c["attributes"]}  # fmt: skip
    assert mine["rt:originByCountry"] == lot_view(lot)["origin"]["by_country"]


def test_an_import_with_unmapped_events_writes_nothing(demo: Path) -> None:
    source = Path(__file__).resolve().parents[1] / "vectors" / "openepcis-test-resources"
    doc = source / "2.0/EPCIS/JSON/Capture/Documents/ObjectEvent_with_digitalLink.json"
    done = run("epcis", "import", str(doc), "--out", "x.jsonl", cwd=demo)
    assert done.returncode == 1 and not (demo / "x.jsonl").exists()
    assert done.stderr.startswith("error: [epcis-unmapped]") and done.stderr.count("\n") == 1
    assert "event 0 (ObjectEvent receiving): refused: destination " in done.stdout
    skipped = run("epcis", "import", str(doc), "--out", "x.jsonl", "--skip-bad",
                  "--rejects", "why.jsonl", cwd=demo)  # fmt: skip
    assert skipped.returncode == 0 and (demo / "x.jsonl").read_text() == ""
    (why,) = [json.loads(line) for line in (demo / "why.jsonl").read_text().splitlines()]
    assert why["status"] == "refused" and why["index"] == 0
