"""docs/interchange.md cannot drift: each example marked ``<!-- check: NAME -->`` is compared
with what the code produces, and the AMRT labels and headings it lists are the ones written."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from raretrace.domain.errors import ValidationError
from raretrace.domain.registry import Registry, parse_facility, parse_participant
from raretrace.interop import amrt, epcis_schema
from raretrace.interop.epcis_export import epcis_event
from raretrace.interop.epcis_import import import_document
from raretrace.interop.epcis_mapping import parse_mapping
from raretrace.interop.geojson import feature
from raretrace.interop.registry_rows import check_rows
from raretrace.interop.sheets import read_table
from raretrace.interop.untp_dte import dte_event
from raretrace.interop.urns import CustodyEvent

DOC = Path(__file__).resolve().parents[2] / "docs" / "interchange.md"
SHIP = {"id": "e2", "type": "ship", "time": "2025-01-06T00:00:00Z", "actor": "lynas-au",
        "lot": "MW-1", "from": "AU-MTWELD", "to": "MY-GEBENG", "consignee": "lynas-my"}  # fmt: skip


def _blocks() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    found = re.findall(r"<!-- check: ([a-z-]+) -->\n```[a-z]*\n(.*?)\n```", text, re.S)
    return dict(found)


BLOCKS = _blocks()


def _json(name: str) -> Any:
    return json.loads(BLOCKS[name])


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_checked_block_is_found() -> None:
    assert set(BLOCKS) == {
        "raretrace-extract", "epcis-extract", "epcis-ship", "epcis-mapping", "epcis-foreign",
        "epcis-foreign-events", "dte-ship", "registry-csv", "registry-records",
        "geojson-feature",
    }  # fmt: skip


def test_the_epcis_examples() -> None:
    extract = _json("raretrace-extract")
    assert epcis_event(CustodyEvent(1, extract, {})) == _json("epcis-extract")
    assert epcis_event(CustodyEvent(2, SHIP, {("MW-1", "shipped"): 1000.0})) == _json("epcis-ship")
    assert _flat(json.dumps(SHIP)) in _flat(DOC.read_text(encoding="utf-8"))


def test_the_mapping_example() -> None:
    document = _json("epcis-foreign")
    assert epcis_schema.schema_errors(document) == []
    imported = import_document(document, parse_mapping(_json("epcis-mapping")))
    assert list(imported.events) == [json.loads(line) for line in
                                     BLOCKS["epcis-foreign-events"].splitlines()]  # fmt: skip
    assert [o.status for o in imported.outcomes] == ["mapped", "skipped"]
    assert _flat(f"event 1 (AggregationEvent packing): skipped: {imported.outcomes[1].reason}") in (
        _flat(DOC.read_text(encoding="utf-8"))
    )


def test_the_schema_error_shown() -> None:
    document = _json("epcis-foreign")
    document["epcisBody"]["eventList"][0]["bizStep"] = "transforming"
    with pytest.raises(ValidationError) as caught:
        epcis_schema.check_document(document, "doc.json")
    assert _flat(f"`{caught.value.message}`") in _flat(DOC.read_text(encoding="utf-8"))


def test_the_dte_example() -> None:
    views = {"MW-1": {"form": "concentrate"}}
    event = dte_event(CustodyEvent(2, SHIP, {("MW-1", "shipped"): 1000.0}), views)
    assert event == _json("dte-ship")


def _registry() -> Registry:
    reg = Registry()
    reg.add(parse_participant({"id": "lynas-my", "name": "Lynas Malaysia Sdn Bhd",
                               "country": "MY"}))  # fmt: skip
    return reg


def test_the_registry_sheet_and_geojson_examples(tmp_path: Path) -> None:
    sheet = tmp_path / "f.csv"
    sheet.write_text(BLOCKS["registry-csv"] + "\n", encoding="utf-8")
    table = read_table(sheet)
    checked = check_rows(table, "facilities", _registry())
    assert (checked.errors, table.empty_rows) == ((), 1)
    assert list(checked.records) == _json("registry-records")
    reg = _registry()
    gebeng = parse_facility(checked.records[0], reg.participants)
    reg.add(gebeng)
    assert feature(gebeng, reg, "2026-01-01T00:00:00.000000Z") == _json("geojson-feature")


def test_the_amrt_labels_and_headings_are_the_ones_written() -> None:
    text = _flat(DOC.read_text(encoding="utf-8"))
    for _, label in amrt.DECLARATION_FIELDS[:10]:
        assert label.rstrip(":") in text, label
    for heading in (*amrt.SMELTER_COLUMNS, *amrt.MINE_COLUMNS, *amrt.COUNTRY_COLUMNS):
        assert heading in text, heading
    assert "B4:B15" in text and len(amrt.DECLARATION_FIELDS) == 12
