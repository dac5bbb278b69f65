"""``raretrace registry import`` (CSV and Excel) and ``registry export --geojson``: rows go
through the registry load path; a bad row is named by row, column and reason and nothing is
loaded; malformed spreadsheets (merged cells, wrong types, empty rows, formulas) are refused
or read as documented."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from cli_support import run
from raretrace.domain.registry import Registry, parse_participant
from raretrace.interop.registry_rows import check_rows
from raretrace.interop.sheets import read_table
from raretrace.store.store import Store

pytestmark = pytest.mark.integration

PARTICIPANTS = {
    "participants": [
        {"id": "lynas-my", "name": "Lynas Malaysia", "country": "MY"},
        {"id": "aelb-my", "name": "AELB", "country": "MY", "roles": ["authority"]},
    ]
}
HEADER = ["id", "name", "operator", "country", "stage", "lat", "lon", "capacity_t_per_year",
          "cahra"]  # fmt: skip


def _known() -> Registry:
    reg = Registry()
    for p in PARTICIPANTS["participants"]:
        reg.add(parse_participant(p))
    return reg


def _xlsx(path: Path, rows: list[list[object]], *, title: str = "facilities") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    (tmp_path / "reg.json").write_text(json.dumps(PARTICIPANTS))
    for args in (
        ["init", "--allow-unsigned", "--log-dir", "log"],
        ["registry", "load", "reg.json"],
    ):
        done = run("--db", "l.db", *args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    return tmp_path


def _facilities(where: Path) -> dict[str, object]:
    store = Store.open(str(where / "l.db"), access="read")
    try:
        return dict(store.registry().facilities)
    finally:
        store.close()


def test_a_csv_loads_through_the_registry_path_and_twice_changes_nothing(ledger: Path) -> None:
    (ledger / "f.csv").write_text(
        ",".join(HEADER) + "\n"
        "MY-GEBENG,Lynas Gebeng,lynas-my,MY,separation;cracking,3.97,103.38,10500,no\n"
        ",,,,,,,,\n"
        "MY-PORT,Kuantan port,lynas-my,MY,warehouse,,,,\n"
    )  # fmt: skip
    done = run("--db", "l.db", "registry", "import", "f.csv", "--kind", "facilities", cwd=ledger)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "registry import: 2 rows of facilities, 2 records added or changed, 0 refused,"
        " 1 empty rows skipped"
    )
    facilities = _facilities(ledger)
    gebeng = facilities["MY-GEBENG"]
    assert gebeng.stages == ("separation", "cracking") and gebeng.capacity_t_per_year == 10500
    assert gebeng.lat == 3.97 and gebeng.cahra is False
    again = run("--db", "l.db", "registry", "import", "f.csv", "--kind", "facilities", cwd=ledger)
    assert "0 records added or changed" in again.stdout


def test_one_bad_row_loads_nothing_and_names_row_column_and_reason(ledger: Path) -> None:
    (ledger / "f.csv").write_text(
        ",".join(HEADER) + "\n"
        "MY-A,A,lynas-my,MY,separation,1,1,,\n"
        "MY-B,B,lynas-my,Malaysia,separation,1,1,,\n"
        "MY-C,C,lynas-my,MY,separation,north,1,,\n"
    )  # fmt: skip
    done = run("--db", "l.db", "registry", "import", "f.csv", "--kind", "facilities", cwd=ledger)
    assert done.returncode == 1
    assert done.stderr == (
        "error: [sheet-row] f.csv row 3: 2 of 3 rows are refused, nothing was loaded; the first:"
        " row 3, column country: [registry-format] facility 'MY-B': field 'country' must be an"
        " ISO 3166-1 alpha-2 code such as 'MY', got 'Malaysia'. Correct the sheet, or pass"
        " --skip-bad --rejects FILE to load the good rows\n"
    )
    assert "refused row 4, column lat: must be a number, got 'north'" in done.stdout
    assert _facilities(ledger) == {}
    skipped = run("--db", "l.db", "registry", "import", "f.csv", "--kind", "facilities",
                  "--skip-bad", "--rejects", "bad.jsonl", cwd=ledger)  # fmt: skip
    assert skipped.returncode == 0, skipped.stderr
    assert set(_facilities(ledger)) == {"MY-A"}
    rows = [json.loads(x) for x in (ledger / "bad.jsonl").read_text().splitlines()]
    assert [(r["row"], r["column"]) for r in rows] == [(3, "country"), (4, "lat")]


def test_an_excel_sheet_with_dates_booleans_and_numbers(ledger: Path) -> None:
    _xlsx(ledger / "f.xlsx", [HEADER, ["MY-X", "X", "lynas-my", "MY", "separation", 3.5, 103,
                                        1200, True]])  # fmt: skip
    done = run("--db", "l.db", "registry", "import", "f.xlsx", "--kind", "facilities", cwd=ledger)
    assert done.returncode == 0, done.stderr
    _xlsx(ledger / "lic.xlsx", [
        ["id", "holder", "facility", "kind", "authority", "valid_from", "valid_until"],
        ["LIC-1", "lynas-my", "MY-X", "operating", "aelb-my", datetime(2024, 1, 1),
         "2030-01-01T00:00:00Z"],
    ], title="licences")  # fmt: skip
    done = run("--db", "l.db", "registry", "import", "lic.xlsx", "--kind", "licences", cwd=ledger)
    assert done.returncode == 0, done.stderr
    store = Store.open(str(ledger / "l.db"), access="read")
    licence = store.registry().licences["LIC-1"]
    store.close()
    assert licence.valid_from.startswith("2024-01-01T00:00:00")

    run("--db", "l.db", "registry", "export", "--geojson", "map.geojson", cwd=ledger)
    collection = json.loads((ledger / "map.geojson").read_text())
    assert collection["type"] == "FeatureCollection"
    (feature,) = collection["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [103, 3.5]}
    props = feature["properties"]
    shown = [props[k] for k in ("stage", "country", "operator", "capacity_t_per_year")]
    assert shown == ["separation", "MY", "lynas-my", 1200]
    assert props["licence_status"] == "licensed"


def test_merged_cells_and_formulas_are_refused_naming_the_cells(tmp_path: Path) -> None:
    merged = _xlsx(tmp_path / "m.xlsx", [HEADER, ["A", "a", "lynas-my", "MY", "mine"],
                                         ["B", "b", None, "MY", "mine"]])  # fmt: skip
    book = openpyxl.load_workbook(merged)
    book.active.merge_cells("C2:C3")  # type: ignore[union-attr]
    book.save(merged)
    with pytest.raises(Exception, match=r"cells C2:C3 are merged; unmerge them"):
        read_table(merged)
    formula = _xlsx(tmp_path / "f.xlsx", [HEADER, ["A", "a", "lynas-my", "MY", "mine", "=1+2"]])
    with pytest.raises(Exception, match=r"cell F2 holds a formula \(=1\+2\); raretrace reads"):
        read_table(formula)


def test_wrong_types_and_headers(tmp_path: Path) -> None:
    sheet = _xlsx(tmp_path / "t.xlsx", [
        HEADER, [None] * 9,
        ["A", "a", "lynas-my", "MY", "mine", "3,5", 1, 10, "maybe"],
        ["B", "b", "lynas-my", "MY", "mine", 1, 1, True, "no"],
        ["A", "a", "lynas-my", "MY", "mine"],
        ["C", "c", "nobody", "MY", "mine"],
    ])  # fmt: skip
    table = read_table(sheet)
    assert table.empty_rows == 1
    checked = check_rows(table, "facilities", _known())
    assert [(e.row, e.column) for e in checked.errors] == [
        (3, "lat"),
        (4, "capacity_t_per_year"),
        (6, "operator"),
    ]
    assert [r["id"] for r in checked.records] == ["A"]  # row 5: row 3 was refused
    ok = _xlsx(tmp_path / "ok.xlsx", [HEADER, ["A", "a", "lynas-my", "MY", "mine"],
                                      ["A", "a", "lynas-my", "MY", "mine"]])  # fmt: skip
    twice = check_rows(read_table(ok), "facilities", _known())
    assert [(e.row, e.column) for e in twice.errors] == [(3, "id")]
    bad_header = tmp_path / "h.csv"
    bad_header.write_text("id,name,colour\nA,a,red\n")
    with pytest.raises(Exception, match=r"column\(s\) \['colour'\] are not fields of a facility"):
        check_rows(read_table(bad_header), "facilities", _known())


def test_not_a_spreadsheet(tmp_path: Path) -> None:
    fake = tmp_path / "x.xlsx"
    fake.write_bytes(b"not a zip file")
    with pytest.raises(Exception, match=r"not an Excel \.xlsx workbook"):
        read_table(fake)
    other = tmp_path / "x.ods"
    other.write_text("x")
    with pytest.raises(Exception, match=r"neither \.csv nor \.xlsx"):
        read_table(other)


def test_a_subdivision_column_places_participants_and_facilities_in_a_state(
    tmp_path: Path,
) -> None:
    """ISO 3166-2 ``subdivision`` (a state authority's jurisdiction, docs/clearinghouse.md)."""
    people = tmp_path / "p.csv"
    people.write_text("id,name,country,subdivision,roles\n"
                      "perak-lmo,Perak Land and Mines Office,MY,MY-08,authority\n"
                      "fed,Federal,MY,,authority\n")  # fmt: skip
    checked = check_rows(read_table(people), "participants", _known())
    assert not checked.errors
    assert [r.get("subdivision") for r in checked.records] == ["MY-08", None]
    sites = tmp_path / "f.csv"
    sites.write_text("id,name,operator,country,subdivision,stage\n"
                     "MY-KENERING,Kenering,lynas-my,MY,MY-08,mine\n"
                     "MY-ELSEWHERE,Elsewhere,lynas-my,MY,TH-10,mine\n")  # fmt: skip
    checked = check_rows(read_table(sites), "facilities", _known())
    assert [r["subdivision"] for r in checked.records] == ["MY-08"]
    assert [(e.row, e.column) for e in checked.errors] == [(3, "subdivision")]
