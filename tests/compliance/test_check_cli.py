"""``raretrace check`` as a user runs it: a real ledger, a real process, the issue's JSON
shape, exit codes (1 on any fail, 2 on bad arguments, one line), and licences loaded later."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cli_support import run

pytestmark = pytest.mark.integration

REGISTRY: dict[str, Any] = {
    "participants": [
        {"id": "mofcom-cn", "name": "MOFCOM", "country": "CN", "roles": ["authority"]},
        {"id": "cn-sep", "name": "A separator", "country": "CN"},
        {"id": "jp-mag", "name": "A magnet maker", "country": "JP"},
    ],
    "facilities": [
        {"id": "CN-MINE", "name": "Mine", "operator": "cn-sep", "country": "CN", "stage": "mine"},
        {"id": "CN-SEP", "name": "Separator", "operator": "cn-sep", "country": "CN",
         "stage": "separation"},
        {"id": "JP-MAG", "name": "Magnets", "operator": "jp-mag", "country": "JP",
         "stage": ["magnet", "alloying"]},
    ],
}  # fmt: skip
EVENTS = [
    {"id": "x-1", "type": "extract", "time": "2025-05-01T00:00:00Z", "actor": "cn-sep",
     "facility": "CN-MINE", "outputs": [{"lot": "CONC-1", "form": "concentrate",
     "mass_kg": 1000.0, "elements_kg": {"Nd": 100.0, "Dy": 10.0}}]},
    {"id": "s-1", "type": "ship", "time": "2025-05-02T00:00:00Z", "actor": "cn-sep",
     "lot": "CONC-1", "from": "CN-MINE", "to": "CN-SEP", "consignee": "cn-sep"},
    {"id": "r-1", "type": "receive", "time": "2025-05-03T00:00:00Z", "actor": "cn-sep",
     "lot": "CONC-1", "facility": "CN-SEP"},
    {"id": "t-1", "type": "transform", "process": "separation", "time": "2025-05-04T00:00:00Z",
     "actor": "cn-sep", "facility": "CN-SEP", "inputs": [{"lot": "CONC-1", "mass_kg": 1000.0}],
     "outputs": [{"lot": "OX-1", "form": "oxide", "mass_kg": 130.0,
                  "elements_kg": {"Nd": 100.0, "Dy": 10.0}}], "losses_kg": {}},
    {"id": "s-dy1", "type": "ship", "time": "2025-06-01T00:00:00Z", "actor": "cn-sep",
     "lot": "OX-1", "from": "CN-SEP", "to": "JP-MAG", "consignee": "jp-mag"},
    {"id": "r-2", "type": "receive", "time": "2025-06-20T00:00:00Z", "actor": "jp-mag",
     "lot": "OX-1", "facility": "JP-MAG"},
    {"id": "t-2", "type": "transform", "process": "magnet", "time": "2025-07-01T00:00:00Z",
     "actor": "jp-mag", "facility": "JP-MAG", "inputs": [{"lot": "OX-1", "mass_kg": 130.0}],
     "outputs": [{"lot": "MAG-1", "form": "magnet", "mass_kg": 400.0,
                  "elements_kg": {"Nd": 100.0, "Dy": 10.0, "other": 290.0}}], "losses_kg": {}},
]  # fmt: skip
LICENCE = {"licences": [{
    "id": "LIC-2", "holder": "cn-sep", "kind": "export", "regime": "CN-MOFCOM-18",
    "authority": "mofcom-cn", "events": ["s-dy1"], "valid_from": "2025-05-01T00:00:00Z",
    "valid_until": "2025-12-31T00:00:00Z"}]}  # fmt: skip


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("check")
    (folder / "registry.json").write_text(json.dumps(REGISTRY), encoding="utf-8")
    (folder / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    assert run("init", "--allow-unsigned", cwd=folder).returncode == 0
    assert run("registry", "load", "registry.json", cwd=folder).returncode == 0
    done = run("ingest", "events.jsonl", cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


def _check(folder: Path, *args: str) -> tuple[int, dict[str, Any]]:
    done = run("check", "MAG-1", *args, "--json", cwd=folder)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_json_is_exactly_the_issue_shape_and_a_fail_exits_1(ledger: Path) -> None:
    code, report = _check(ledger, "--as-of", "2027-02-01")
    assert code == 1
    assert list(report) == ["lot", "as_of", "results"]
    assert (report["lot"], report["as_of"]) == ("MAG-1", "2027-02-01")
    for result in report["results"]:
        assert list(result) == [
            "pack", "rule", "status", "summary", "reasons", "events", "facts_reviewed",
        ]  # fmt: skip
    by_rule = {r["rule"]: r for r in report["results"]}
    no18 = by_rule["MOFCOM/GAC Announcement No. 18 of 2025"]
    assert (no18["status"], no18["events"]) == ("fail", ["s-dy1"])
    dfars = by_rule["DFARS 252.225-7052(b)"]
    assert dfars["status"] == "fail"  # mined and separated in CN, from 2027
    assert "Nd: 100% went through separation in CN" in dfars["reasons"]
    assert [r["pack"] for r in report["results"]][:1] == ["cn-mofcom"]


def test_one_pack_and_the_date_before_2027_exit_0(ledger: Path) -> None:
    code, report = _check(ledger, "--pack", "us-dfars", "--as-of", "2026-12-31")
    assert code == 0
    assert [(r["pack"], r["status"]) for r in report["results"]] == [("us-dfars", "pass")]


def test_declared_value_and_prices(ledger: Path) -> None:
    prices = ledger / "prices.json"
    prices.write_text(json.dumps({"Dy": 300.0, "Nd": 0}), encoding="utf-8")
    _, report = _check(ledger, "--pack", "cn-mofcom", "--as-of", "2026-11-11",
                       "--declared-value-usd", "3000000", "--prices", str(prices))  # fmt: skip
    de_minimis = next(r for r in report["results"] if r["rule"].endswith("art. I(1)"))
    # 10 kg Dy x 300 USD = 3,000 USD: exactly 0.1% of 3,000,000 USD -> a licence is needed.
    assert de_minimis["status"] == "fail", de_minimis


def test_a_licence_loaded_later_turns_the_fail_into_a_pass(ledger: Path) -> None:
    (ledger / "licence.json").write_text(json.dumps(LICENCE), encoding="utf-8")
    assert run("registry", "load", "licence.json", cwd=ledger).returncode == 0
    code, report = _check(ledger, "--pack", "cn-mofcom", "--as-of", "2026-01-01")
    assert code == 0
    [no18, *_] = report["results"]
    assert no18["status"] == "pass" and "LIC-2" in no18["reasons"][0]


def test_the_table(ledger: Path) -> None:
    done = run("check", "MAG-1", "--as-of", "2027-02-01", cwd=ledger)
    assert done.returncode == 1
    assert "lot MAG-1 as of 2027-02-01" in done.stdout
    assert "us-dfars" in done.stdout and "fail" in done.stdout
    assert "facts last reviewed" in done.stdout


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--pack", "nope"], "unknown pack 'nope'; the packs are cn-mofcom, us-dfars,"),
        (["--as-of", "2027-13-01"], "--as-of '2027-13-01' is not a date; give YYYY-MM-DD"),
        (["--as-of", "1 Feb 2027"], "is not a date"),
        (["--declared-value-usd", "-1"], "--declared-value-usd -1.0 is not an amount"),
        (["--declared-value-usd", "lots"], "--declared-value-usd 'lots' is not an amount"),
        (["--declared-value-usd", "nan"], "is not an amount"),
        (["--prices", "missing.json"], "cannot read"),
        (["--prices", "bad-list.json"], "must be a JSON object of element -> USD per kg"),
        (["--prices", "bad-value.json"], "'Dy' is 'x'; each price must be a finite number"),
        (["--prices", "bad-negative.json"], "'Dy' is -3; each price must be"),
        (["--prices", "bad-element.json"], "'Xx' is not a rare-earth element symbol"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(ledger: Path, args: list[str], text: str) -> None:
    files = {"bad-list.json": [1], "bad-value.json": {"Dy": "x"},
             "bad-negative.json": {"Dy": -3}, "bad-element.json": {"Xx": 1}}  # fmt: skip
    for name, doc in files.items():
        (ledger / name).write_text(json.dumps(doc), encoding="utf-8")
    done = run("check", "MAG-1", *args, cwd=ledger)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert text in line, line


def test_an_unknown_lot_is_named(ledger: Path) -> None:
    done = run("check", "NOPE", cwd=ledger)
    assert done.returncode == 2
    assert "lot 'NOPE' is not in the ledger" in done.stderr
