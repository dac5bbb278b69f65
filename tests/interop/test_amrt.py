"""The RMI AMRT (Rare Earth Elements): shares weighted by the rare-earth kg delivered, the
processors of the lineage, the workbook read back unchanged, malformed workbooks refused."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pytest

from cli_support import run
from raretrace.domain.errors import ValidationError
from raretrace.domain.registry import Registry, parse_facility, parse_participant
from raretrace.interop import amrt
from raretrace.store.store import Store


def _registry() -> Registry:
    reg = Registry()
    reg.add(parse_participant({"id": "magco", "name": "Magnet Co", "country": "VN"}))
    for fid, stage, country in (("MINE-A", "mine", "AU"), ("MINE-B", "mine", "VN"),
                                ("SEP", "separation", "MY"), ("MAG", ["magnet", "alloying"], "VN"),
                                ("PORT", "warehouse", "SG")):  # fmt: skip
        reg.add(parse_facility({"id": fid, "name": f"{fid} site", "operator": "magco",
                                "country": country, "stage": stage}, reg.participants))  # fmt: skip
    return reg


def _amrt() -> amrt.Amrt:
    reg = _registry()
    deliveries = [
        # 100 kg of a lot that is 30% Nd, 10% Pr (and Th, which is no rare earth): 40 kg REE,
        amrt.Delivery("s1", "L1", amrt.ree_kg(100, 200, {"Nd": 60, "Pr": 20, "Th": 1}),
                      {"Nd": {"MINE-A": 1.0}, "Pr": {"MINE-A": 0.5, "MINE-B": 0.5}},
                      {"Nd": {"AU": 1.0}, "Pr": {"AU": 0.5, "VN": 0.5}}),
        # and 10 kg REE that is all recycled.
        amrt.Delivery("s2", "L2", {"Nd": 10.0}, {"Nd": {"recycled": 1.0}},
                      {"Nd": {"recycled": 1.0}}),
    ]  # fmt: skip
    lineage = [reg.facilities[f] for f in ("MINE-A", "SEP", "MAG", "PORT")]
    return amrt.build_amrt(participant="magco", registry=reg, deliveries=deliveries,
                           lineage=lineage, period=("2025-01-01", "2025-12-31"),
                           effective_date="2026-01-15")  # fmt: skip


def test_origin_shares_are_weighted_by_the_rare_earth_kg_delivered() -> None:
    result = _amrt()
    countries = {c.key: (c.share, c.kg) for c in result.countries}
    assert countries == {"AU": (0.7, 35.0), "VN": (0.1, 5.0), "recycled": (0.2, 10.0)}
    mines = {m.key: (m.name, m.country, m.share) for m in result.mines}
    assert mines == {"MINE-A": ("MINE-A site", "AU", 0.7), "MINE-B": ("MINE-B site", "VN", 0.1),
                     "recycled": ("recycled or scrap", "", 0.2)}  # fmt: skip
    assert [(s.facility, s.stage) for s in result.smelters] == [("MAG", "magnet"),
                                                                ("SEP", "separation")]  # fmt: skip
    assert result.declaration["mineral_scope"] == "Rare Earth Elements"
    assert result.declaration["q1"] == result.declaration["q2"] == "Yes"


def test_the_workbook_reads_back_to_the_same_values() -> None:
    result = _amrt()
    data = amrt.workbook_bytes(result)
    assert amrt.read_workbook(data, "a.xlsx").to_json() == result.to_json()
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Declaration", "Smelter List", "Mine List", "Country of Origin",
                               "raretrace"]  # fmt: skip
    declaration = book["Declaration"]
    assert declaration["B4"].value == "Company Name (*):" and declaration["D4"].value == "Magnet Co"
    assert declaration["B13"].value == "Mineral Reporting Scope (*):"
    assert declaration["D13"].value == "Rare Earth Elements"
    assert [c.value for c in book["Smelter List"][1]][:5] == [
        "Metal (*)", "Smelter Look-up (*)", "Smelter Name (*)", "Smelter Country (*)",
        "Smelter Identification"]  # fmt: skip


def _broken(change: str) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(amrt.workbook_bytes(_amrt())))
    if change == "no mine list":
        del book["Mine List"]
    elif change == "text share":
        book["Country of Origin"]["C2"] = "seventy percent"
    elif change == "no company row":
        book["Declaration"]["B4"] = "Firm:"
    elif change == "no smelter name column":
        book["Smelter List"]["C1"] = "Name"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("change", "message"),
    [("no mine list", "has no 'Mine List' sheet"),
     ("text share", "a share or mass is 'seventy percent', not a number"),
     ("no company row", "has no row 'Company Name (*):' in column B"),
     ("no smelter name column", "has no column(s) ['Smelter Name (*)']")],
)  # fmt: skip
def test_a_malformed_workbook_is_refused_naming_what_is_wrong(change: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        amrt.read_workbook(_broken(change), "a.xlsx")
    assert message in caught.value.message
    with pytest.raises(ValidationError, match="not an Excel"):
        amrt.read_workbook(b"PK\x03\x04 not really", "a.xlsx")


@pytest.mark.integration
def test_export_and_import_through_the_cli(demo: Path) -> None:
    store = Store.open(str(demo / "ledger.db"), access="read")
    registry = store.registry()
    store.close()
    done = run("--db", "ledger.db", "amrt", "export", "--participant", "shin-etsu-vn",
               "--out", "shin.xlsx", cwd=demo)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("AMRT for Shin-Etsu")
    read = run("amrt", "import", "shin.xlsx", cwd=demo)
    assert read.returncode == 0, read.stderr
    content = json.loads(read.stdout)
    assert content["info"]["participant"] == "shin-etsu-vn"
    assert int(content["info"]["deliveries"]) > 0
    assert sum(c["share"] for c in content["countries"]) == pytest.approx(1.0, abs=1e-5)
    for smelter in content["smelters"]:
        stages = registry.facilities[smelter["facility"]].stages
        assert set(stages) & set(amrt.PROCESSOR_STAGES)
    period = ["--from", "2001-01-01", "--to", "2001-12-31"]
    none = run("--db", "ledger.db", "amrt", "export", "--participant", "shin-etsu-vn",
               *period, "--out", "none.xlsx", cwd=demo)  # fmt: skip
    assert none.returncode == 0 and "0 deliveries" in none.stdout
    ghost = run("--db", "ledger.db", "amrt", "export", "--participant", "ghost",
                "--out", "g.xlsx", cwd=demo)  # fmt: skip
    assert ghost.returncode == 2 and not (demo / "g.xlsx").exists()
