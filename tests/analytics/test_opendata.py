"""``open-data export``: Parquet and CSV tables, a data dictionary and datapackage.json, with
no cell published that fewer than k participants stand behind; DuckDB reads the files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings

from analytics_support import small_ledger
from cli_support import run
from ledger_chains import REGISTRY, Chain, chains
from ledger_support import new_ledger
from raretrace.analytics import service
from raretrace.analytics.opendata import COLUMNS
from raretrace.analytics.period import parse_period
from raretrace.analytics.settings import load_settings

pytestmark = pytest.mark.integration
ENV = {"RARETRACE_DB": "ledger.db"}


def _settings(tmp_path: Path, k: int, period: str = "month") -> Path:
    path = tmp_path / f"k{k}.json"
    path.write_text(json.dumps({"open_data": {"k": k, "period": period}}))
    return path


def test_export_writes_every_table_twice_with_its_dictionary(tmp_path: Path) -> None:
    small_ledger(tmp_path).close()
    done = run("open-data", "export", "od", "--settings", str(_settings(tmp_path, 1)),
               cwd=tmp_path, env=ENV)  # fmt: skip
    assert done.returncode == 0, done.stderr
    od = tmp_path / "od"
    package = json.loads((od / "datapackage.json").read_text())
    assert {r["path"] for r in package["resources"]} == {
        f"{t}.{x}" for t in COLUMNS for x in ("csv", "parquet")
    }
    for table, columns in COLUMNS.items():
        assert pq.read_table(od / f"{table}.parquet").column_names == [c[0] for c in columns]
        with (od / f"{table}.csv").open(encoding="utf-8") as fh:
            assert next(csv.reader(fh)) == [c[0] for c in columns]
    assert "k = 1" in (od / "data-dictionary.md").read_text()
    # k = 1: everything is published; January's Nd from the AU mine is 100 kg
    rows = duckdb.sql(
        f"SELECT period, country, kg FROM '{od}/stage_output.parquet'"
        " WHERE element = 'Nd' AND stage = 'mine' ORDER BY country"
    ).fetchall()
    assert rows == [("2025-01", "AU", 100.0), ("2025-01", "VN", 60.0)]


def test_cells_of_one_company_are_suppressed(tmp_path: Path) -> None:
    ledger = small_ledger(tmp_path)
    data = service.open_data(
        ledger.store, parse_period(None, None), load_settings(_settings(tmp_path, 2))
    )
    for table in ("flows", "stage_output"):
        assert data.tables[table] and all(
            r["suppressed"] and r["kg"] is None for r in data.tables[table]
        )
    conc = data.tables["concentration"]
    assert all(r["hhi"] is None and r["top_country"] is None for r in conc if r["suppressed"])
    assert [f["id"] for f in data.tables["facilities"]] == [
        "MAGNET-VN",
        "MINE-AU",
        "MINE-VN",
        "PLANT-MY",
    ]


def test_a_folder_that_is_not_new_is_refused_and_left_alone(tmp_path: Path) -> None:
    small_ledger(tmp_path).close()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    done = run("open-data", "export", "full", cwd=tmp_path, env=ENV)
    assert done.returncode == 2 and "is a folder that is not empty" in done.stderr
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chains())
def test_no_published_cell_has_fewer_than_k_participants(
    tmp_path_factory: pytest.TempPathFactory, chain: Chain
) -> None:
    work = tmp_path_factory.mktemp("open")
    ledger = new_ledger(str(work / "ledger.db"), REGISTRY, log_dir=work / "log")
    assert ledger.ingest(enumerate(chain.events, 1), batch_size=7).rejected == 0
    k = 2
    data = service.open_data(
        ledger.store, parse_period(None, None), load_settings(_settings(work, k, "year"))
    )
    # Recomputed from the events themselves: who extracted at each country's mines each year
    miners: dict[tuple[str, str], set[str]] = {}
    country = {f["id"]: f["country"] for f in REGISTRY["facilities"]}
    for ev in chain.events:
        if ev["type"] == "extract" and ev["facility"] != "RECYCLE-JP":
            miners.setdefault((ev["time"][:4], country[ev["facility"]]), set()).add(ev["actor"])
    for table in ("flows", "stage_output"):
        for row in data.tables[table]:
            assert row["suppressed"] == (row["kg"] is None)
            if not row["suppressed"]:
                assert row["participants"] >= k
            if table == "stage_output" and row["stage"] == "mine":
                behind = len(miners.get((row["period"], row["country"]), ()))
                assert row["suppressed"] == (behind < k)
    ledger.close()


def test_the_docs_duckdb_example_runs_on_an_export(tmp_path: Path) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "analytics.md").read_text()
    query = docs.split("## Open data", 1)[1].split("```sql\n", 1)[1].split("```", 1)[0]
    small_ledger(tmp_path).close()
    done = run("open-data", "export", "od", "--settings", str(_settings(tmp_path, 1)),
               cwd=tmp_path, env=ENV)  # fmt: skip
    assert done.returncode == 0, done.stderr
    con = duckdb.connect()
    con.execute(f"SET file_search_path = '{tmp_path / 'od'}'")
    rows = con.sql(query).fetchall()
    assert [r[:4] for r in rows] == [
        ("2025-01", "mine", "AU", 100.0), ("2025-01", "separation", "MY", 97.0),
        ("2025-01", "mine", "VN", 60.0),
    ]  # fmt: skip


def test_open_data_discloses_approved_agreements_public_fields_only() -> None:
    """The agreements table: approved agreements only, each field the council did not make
    public left empty (what GET /v1/agreements shows the public, flattened)."""
    from clearinghouse_support import WORLD, agreement_review, agreement_submit
    from raretrace.analytics.opendata import agreement_rows
    from raretrace.domain.events import parse_event
    from raretrace.domain.model import Tolerance
    from raretrace.domain.registry import Registry, parse_registry_document
    from raretrace.domain.rules import apply

    registry = Registry()
    for record in parse_registry_document(WORLD).records():
        registry.add(record)

    class State:
        def __init__(self) -> None:
            self.registry = registry
            self.lots: dict[str, object] = {}

        def lot(self, lot_id: str) -> None:
            return None

    state = State()
    for seq, event in enumerate((
        agreement_submit(),
        agreement_submit("agr-2", id="AGR-2"),
        agreement_submit("agr-3", id="AGR-3"),
        agreement_review("r1", "under-review"),
        agreement_review("r2", "approved-with-conditions", reasons="domestic supply first",
                         conditions=["10% offered to Malaysian buyers"], public=["volumes"]),
        agreement_review("r3", "under-review", agreement="AGR-2"),
    )):  # fmt: skip
        effects = apply(state, parse_event(event), seq, Tolerance())  # type: ignore[arg-type]
        assert effects.case is not None
        registry.add_case(effects.case)
    rows = agreement_rows(registry)
    assert [r["id"] for r in rows] == ["AGR-1"]  # AGR-2 under review, AGR-3 submitted
    (row,) = rows
    assert row["status"] == "approved-with-conditions"
    assert row["parties"] == "Perak State Government|A foreign group"
    assert row["party_countries"] == "MY|CN" and row["jurisdictions"] == "MY|MY-08"
    assert row["conditions"] == "10% offered to Malaysian buyers"
    assert json.loads(row["volumes"]) == [
        {"material": "mixed RE carbonate", "tonnes": 1500, "per": "year"}
    ]
    # not made public: title, elements, dates, documents
    assert row["title"] is row["elements"] is row["signed"] is row["documents"] is None
    assert set(row) == {c[0] for c in COLUMNS["agreements"]}
