"""``raretrace portfolio`` as a user runs it: the EU CRMA benchmark (Regulation (EU) 2024/1252
Art. 5(1)(b)) on a real ledger, by lot ids and by a participant's receipts in a period, the
documented JSON, exit codes (1 on fail, 2 on bad arguments, one line)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cli_support import run

pytestmark = pytest.mark.integration

REGISTRY: dict[str, Any] = {
    "participants": [
        {"id": "cn-min", "name": "A Chinese miner", "country": "CN"},
        {"id": "au-min", "name": "An Australian miner", "country": "AU"},
        {"id": "ee-mag", "name": "An Estonian magnet maker", "country": "EE"},
        {"id": "my-rec", "name": "A Malaysian recycler", "country": "MY"},
        {"id": "de-buy", "name": "A German motor maker", "country": "DE"},
    ],
    "facilities": [
        {"id": "CN-MINE", "name": "Mine", "operator": "cn-min", "country": "CN", "stage": "mine"},
        {"id": "AU-MINE", "name": "Mine", "operator": "au-min", "country": "AU", "stage": "mine"},
        {"id": "EE-MAG", "name": "Magnets", "operator": "ee-mag", "country": "EE",
         "stage": "magnet"},
        {"id": "MY-REC", "name": "Recycler", "operator": "my-rec", "country": "MY",
         "stage": "recycling"},
        {"id": "DE-STORE", "name": "Store", "operator": "de-buy", "country": "DE",
         "stage": "warehouse"},
    ],
}  # fmt: skip


def _made(n: str, actor: str, site: str, lot: str, nd: float, day: str) -> dict[str, Any]:
    return {"id": f"x-{n}", "type": "extract", "time": f"2025-{day}T00:00:00Z", "actor": actor,
            "facility": site, "outputs": [{"lot": lot, "form": "concentrate" if site != "MY-REC"
            else "scrap", "mass_kg": 1000.0, "elements_kg": {"Nd": nd}}]}  # fmt: skip


def _move(n: str, actor: str, lot: str, origin: str, to: str, consignee: str, day: str,
          kg: float | None = None) -> list[dict[str, Any]]:  # fmt: skip
    ship = {"id": f"s-{n}", "type": "ship", "time": f"2025-{day}T00:00:00Z", "actor": actor,
            "lot": lot, "from": origin, "to": to, "consignee": consignee}  # fmt: skip
    receive = {"id": f"r-{n}", "type": "receive", "time": f"2025-{day}T12:00:00Z",
               "actor": consignee, "lot": lot, "facility": to, "mass_kg": kg}  # fmt: skip
    return [ship, receive]


def _magnet(n: str, lot: str, out: str, nd: float, day: str) -> dict[str, Any]:
    return {"id": f"t-{n}", "type": "transform", "process": "magnet",
            "time": f"2025-{day}T00:00:00Z", "actor": "ee-mag", "facility": "EE-MAG",
            "inputs": [{"lot": lot, "mass_kg": 1000.0}],
            "outputs": [{"lot": out, "form": "magnet", "mass_kg": 100.0,
                         "elements_kg": {"Nd": nd, "other": 100.0 - nd}}],
            "losses_kg": {}}  # fmt: skip


# Nd: 65 kg mined in China and 35 kg in Australia, each made into a magnet in Estonia (an EU
# member state) and received by the German buyer on 31 March and 1 April; the Australian one
# arrived 1 kg light (a receipt of 99 kg). Plus 20 kg of Nd in recycled scrap.
EVENTS = [
    _made("cn", "cn-min", "CN-MINE", "CN-1", 65.0, "01-10"),
    _made("au", "au-min", "AU-MINE", "AU-1", 35.0, "01-10"),
    _made("rec", "my-rec", "MY-REC", "SCRAP-1", 20.0, "01-10"),
    *_move("cn", "cn-min", "CN-1", "CN-MINE", "EE-MAG", "ee-mag", "02-01"),
    *_move("au", "au-min", "AU-1", "AU-MINE", "EE-MAG", "ee-mag", "02-01"),
    _magnet("cn", "CN-1", "MAG-CN", 65.0, "03-01"),
    _magnet("au", "AU-1", "MAG-AU", 35.0, "03-01"),
    *_move("mag-cn", "ee-mag", "MAG-CN", "EE-MAG", "DE-STORE", "de-buy", "03-31"),
    *_move("mag-au", "ee-mag", "MAG-AU", "EE-MAG", "DE-STORE", "de-buy", "04-01", 99.0),
]


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("portfolio")
    (folder / "registry.json").write_text(json.dumps(REGISTRY), encoding="utf-8")
    (folder / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    assert run("init", "--allow-unsigned", cwd=folder).returncode == 0
    assert run("registry", "load", "registry.json", cwd=folder).returncode == 0
    done = run("ingest", "events.jsonl", cwd=folder)
    assert "accepted 13, rejected 0" in done.stdout, done.stdout + done.stderr
    return folder


def _portfolio(folder: Path, *args: str) -> tuple[int, dict[str, Any]]:
    done = run("portfolio", *args, "--json", cwd=folder)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def _stage(report: dict[str, Any], element: str, stage: str) -> dict[str, Any]:
    [found] = [s for s in report["stages"] if (s["element"], s["stage"]) == (element, stage)]
    return found


def test_json_shape_and_exactly_65_percent_is_not_above(ledger: Path) -> None:
    code, report = _portfolio(ledger, "--lot", "MAG-CN", "--lot", "MAG-AU")
    assert code == 0
    assert list(report) == [
        "lots", "received_by", "from", "to", "elements_kg", "stages", "recycled", "result",
    ]  # fmt: skip
    assert report["lots"] == ["MAG-CN", "MAG-AU"]
    assert (report["received_by"], report["from"], report["to"]) == (None, None, None)
    assert report["elements_kg"] == {"Nd": 100.0}
    mine = _stage(report, "Nd", "mine")
    assert list(mine) == ["element", "stage", "shares", "status", "above"]
    assert mine["shares"] == pytest.approx({"CN": 0.65, "AU": 0.35})
    assert list(mine["shares"]) == ["CN", "AU"]  # largest first
    assert (mine["status"], mine["above"]) == ("pass", [])  # 65% is not *above* 65%
    # Estonia is an EU member state: 100% there is no third-country dependency.
    assert _stage(report, "Nd", "magnet") == {
        "element": "Nd", "stage": "magnet", "shares": {"EE": 1.0}, "status": "pass", "above": [],
    }  # fmt: skip
    assert report["recycled"] == {"share": 0.0, "benchmark": 0.25}
    result = report["result"]
    assert list(result) == [
        "pack", "rule", "status", "summary", "reasons", "events", "facts_reviewed",
    ]  # fmt: skip
    assert (result["pack"], result["status"]) == ("eu-crma", "pass")
    assert result["rule"] == "Regulation (EU) 2024/1252 Art. 5(1)(b)"
    assert result["events"] == ["t-cn", "t-au"]  # the events that made the lots


def test_one_third_country_above_the_limit_fails_that_element_and_stage(ledger: Path) -> None:
    code, report = _portfolio(ledger, "--lot", "MAG-CN", "--lot", "SCRAP-1")
    assert code == 1
    mine = _stage(report, "Nd", "mine")  # 65 of 85 kg: the scrap never went through a mine
    assert mine["shares"] == pytest.approx({"CN": 65 / 85})
    assert (mine["status"], mine["above"]) == ("fail", ["CN"])
    assert report["recycled"]["share"] == pytest.approx(20 / 85)
    assert report["result"]["status"] == "fail"
    assert "Nd mine: CN 76.47% > 65%" in report["result"]["summary"]


def test_received_by_weighs_what_arrived_in_the_period(ledger: Path) -> None:
    # 31 March alone: only the Chinese magnet; both days of the period are included.
    code, report = _portfolio(ledger, "--received-by", "de-buy", "--from", "2025-03-31",
                              "--to", "2025-03-31")  # fmt: skip
    assert (code, report["lots"], report["result"]["events"]) == (1, ["MAG-CN"], ["r-mag-cn"])
    assert (report["received_by"], report["from"], report["to"]) == (
        "de-buy", "2025-03-31", "2025-03-31",
    )  # fmt: skip
    # Both receipts: the Australian magnet arrived at 99 kg, so it weighs 34.65 kg of Nd and
    # China's 65 kg are 65.23% (as made, the two lots were exactly 65%: a pass).
    code, report = _portfolio(ledger, "--received-by", "de-buy", "--from", "2025-03-01",
                              "--to", "2025-04-01")  # fmt: skip
    assert code == 1
    assert report["elements_kg"]["Nd"] == pytest.approx(99.65)
    assert _stage(report, "Nd", "mine")["shares"]["CN"] == pytest.approx(65 / 99.65)
    assert report["result"]["events"] == ["r-mag-cn", "r-mag-au"]


def test_a_period_with_no_receipts_is_not_applicable(ledger: Path) -> None:
    code, report = _portfolio(ledger, "--received-by", "de-buy", "--from", "2025-04-02",
                              "--to", "2025-12-31")  # fmt: skip
    assert code == 0
    assert (report["lots"], report["stages"], report["recycled"]["share"]) == ([], [], None)
    assert report["result"]["status"] == "not-applicable"
    assert "no lots received by de-buy from 2025-04-02 to 2025-12-31" in report["result"]["summary"]


def test_a_consumed_lot_weighs_what_it_held_when_made(ledger: Path) -> None:
    _, report = _portfolio(ledger, "--lot", "CN-1", "--lot", "AU-1")  # both used up by now
    assert report["elements_kg"] == {"Nd": 100.0}
    assert _stage(report, "Nd", "mine")["shares"] == pytest.approx({"CN": 0.65, "AU": 0.35})


def test_the_table(ledger: Path) -> None:
    done = run("portfolio", "--lot", "MAG-CN", "--lot", "SCRAP-1", cwd=ledger)
    assert done.returncode == 1
    assert "portfolio: 2 lot(s) given" in done.stdout
    assert "above the limit: CN" in done.stdout
    assert "recycled share of the strategic rare earths: 23.5% (benchmark 25.0%)" in done.stdout
    assert "eu-crma — Regulation (EU) 2024/1252 Art. 5(1)(b): fail" in done.stdout


@pytest.mark.parametrize(
    ("args", "text"),
    [
        ([], "no portfolio: --received-by, --from, --to missing; give --lot LOT"),
        (["--lot", "MAG-CN", "--received-by", "de-buy"], "select a portfolio two ways"),
        (["--lot", "MAG-CN", "--from", "2025-01-01"], "select a portfolio two ways"),
        (["--lot", "MAG-CN", "--lot", "MAG-CN"], "--lot 'MAG-CN' is given twice"),
        (["--lot", "NOPE"], "lot 'NOPE' is not in the ledger"),
        (["--received-by", "de-buy", "--from", "2025-01-01"], "no portfolio: --to missing"),
        (["--received-by", "de-buy", "--from", "2025-05-01", "--to", "2025-04-30"],
         "--from 2025-05-01 is after --to 2025-04-30"),
        (["--received-by", "debuy", "--from", "2025-01-01", "--to", "2025-02-01"],
         "participant 'debuy' is not in the registry; did you mean de-buy?"),
        (["--received-by", "de-buy", "--from", "2025-02-30", "--to", "2025-03-01"],
         "--from '2025-02-30' is not a date; give YYYY-MM-DD"),
        (["--received-by", "de-buy", "--from", "2025-01-01", "--to", "March"],
         "--to 'March' is not a date"),
    ],
)  # fmt: skip
def test_bad_arguments_are_one_line_exit_2(ledger: Path, args: list[str], text: str) -> None:
    done = run("portfolio", *args, cwd=ledger)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert text in line, line
