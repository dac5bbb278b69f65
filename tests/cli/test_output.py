"""What the reading commands print: whole ids in pipes and narrow terminals, one number
format, JSON Lines listings with the trace's field names, the discrepancies upstream of a lot,
and a note when ``--limit`` cuts a list."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cli_support import run

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

MINED = "LOT-2025-AU-MTWELD-CONCENTRATE-000001"  # ids as long as real ones get
SPLIT = "LOT-2025-MY-GEBENG-CONCENTRATE-SPLIT-000002"
OTHER = "LOT-2025-AU-MTWELD-CONCENTRATE-000009"
ELEMENTS = {"La": 100.0, "Ce": 180.0, "Pr": 20.0, "Nd": 70.0}
SHIPPED, RECEIVED = 1000.123, 983.092  # received - shipped is -17.031000000000063 in floats


def _events() -> list[dict[str, Any]]:
    day = "2025-01-{:02d}T00:00:00Z".format
    kept = RECEIVED / SHIPPED
    return [
        {"id": "x1", "type": "extract", "time": day(1), "actor": "lynas-au",
         "facility": "AU-MTWELD", "outputs": [{"lot": MINED, "form": "concentrate",
                                               "mass_kg": SHIPPED, "elements_kg": ELEMENTS}]},
        {"id": "s1", "type": "ship", "time": day(2), "actor": "lynas-au", "lot": MINED,
         "from": "AU-MTWELD", "to": "MY-GEBENG", "consignee": "lynas-my"},
        {"id": "r1", "type": "receive", "time": day(3), "actor": "lynas-my", "lot": MINED,
         "facility": "MY-GEBENG", "mass_kg": RECEIVED},
        {"id": "t1", "type": "transform", "process": "split", "time": day(4),
         "actor": "lynas-my", "facility": "MY-GEBENG",
         "inputs": [{"lot": MINED, "mass_kg": RECEIVED}],
         "outputs": [{"lot": SPLIT, "form": "concentrate", "mass_kg": RECEIVED,
                      "elements_kg": {e: v * kept for e, v in ELEMENTS.items()}}]},
        {"id": "x9", "type": "extract", "time": day(1), "actor": "lynas-au",
         "facility": "AU-MTWELD", "outputs": [{"lot": OTHER, "form": "concentrate",
                                               "mass_kg": 3300.0, "elements_kg": ELEMENTS}]},
    ]  # fmt: skip


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("output")
    assert run("init", "--allow-unsigned", cwd=cwd).returncode == 0
    assert run("registry", "load", str(FIXTURES / "example_registry.json"), cwd=cwd).returncode == 0
    (cwd / "e.jsonl").write_text("".join(json.dumps(e) + "\n" for e in _events()))
    done = run("ingest", "e.jsonl", cwd=cwd)
    assert "accepted 5, rejected 0, discrepancies 1" in done.stdout, done.stdout + done.stderr
    return cwd


def _line_with(text: str, fragment: str) -> str:
    (line,) = [line for line in text.splitlines() if fragment in line]
    return line


def test_ids_stay_whole_in_a_pipe_however_narrow_columns_says(ledger: Path) -> None:
    listing = run("lots", cwd=ledger, env={"COLUMNS": "60"})
    assert listing.returncode == 0, listing.stderr
    for lot in (MINED, SPLIT, OTHER):  # one row a line, the id whole on it
        row = _line_with(listing.stdout, lot)
        assert "MY-GEBENG" in row or "AU-MTWELD" in row
    found = run("discrepancies", cwd=ledger, env={"COLUMNS": "60"}).stdout
    assert re.search(rf"│ r1 +│ {MINED} │ AU-MTWELD → MY-GEBENG │", found), found


def _on_a_terminal(ledger: Path, *args: str, columns: int) -> str:
    """Run the command with its output on a pseudo-terminal ``columns`` wide."""
    main, child = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "RARETRACE_DB"}
    env.update(COLUMNS=str(columns), LINES="50", TERM="xterm", NO_COLOR="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "raretrace", *args], cwd=ledger, env=env, stdout=child,
        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_ids_stay_whole_on_a_narrow_terminal(ledger: Path) -> None:
    screen = _on_a_terminal(ledger, "lots", columns=60)
    for lot in (MINED, SPLIT, OTHER):
        assert lot in screen, screen
    assert "…" not in screen


def test_lots_json_lines_use_the_trace_field_names(ledger: Path) -> None:
    done = run("lots", "--json", cwd=ledger)
    assert done.returncode == 0 and done.stderr == ""
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["lot"] for r in rows] == sorted([MINED, SPLIT, OTHER])
    trace = json.loads(run("trace", SPLIT, "--json", cwd=ledger).stdout)
    (split,) = [r for r in rows if r["lot"] == SPLIT]
    assert split == {k: trace[k] for k in split}
    assert set(split) == {
        "lot", "form", "status", "mass_kg", "elements_kg", "facility", "custodian", "time",
    }  # fmt: skip


def test_a_cut_list_says_how_much_is_left_out(ledger: Path) -> None:
    cut = run("lots", "--limit", "2", "--json", cwd=ledger)
    assert len(cut.stdout.splitlines()) == 2  # stdout holds only the listing
    assert cut.stderr == "showing 2 of 3 lots (use --limit N for more, --limit 0 for all)\n"
    table = run("lots", "--limit", "2", cwd=ledger)
    assert "showing 2 of 3 lots" in table.stderr
    whole = run("lots", "--limit", "3", cwd=ledger)
    assert whole.stderr == ""


def test_facilities_json_lines(ledger: Path) -> None:
    done = run("facilities", "--json", cwd=ledger)
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["facility"] for r in rows] == ["AU-MTWELD", "MY-GEBENG"]
    assert rows[1]["stages"] == ["separation"] and rows[1]["country"] == "MY"
    assert rows[1]["operator"] == "lynas-my" and rows[1]["cahra"] is False


def test_masses_print_one_way_and_deltas_are_rounded(ledger: Path) -> None:
    found = run("discrepancies", "--json", cwd=ledger)
    (row,) = [json.loads(line) for line in found.stdout.splitlines()]
    assert row["delta_kg"] == -17.031 and row["shipped_kg"] == SHIPPED
    table = run("discrepancies", cwd=ledger).stdout
    assert re.search(r"│ +1,000\.123 │ +983\.092 │ +-17\.031 │ +-1\.7% │", table), table
    lots = run("lots", cwd=ledger).stdout
    assert re.search(rf"{OTHER} +│ concentrate │ +3,300 │", lots), lots


def test_trace_shows_the_discrepancies_upstream_and_what_shares_are_of(ledger: Path) -> None:
    text = run("trace", SPLIT, cwd=ledger).stdout
    assert f"{SPLIT}  concentrate, 983.092 kg, active at MY-GEBENG" in text
    assert "share of this element" in text
    assert "of the Nd in this lot came from mines in AU" in text
    assert (
        f"receipt r1 of {MINED} at MY-GEBENG (from AU-MTWELD): shipped 1,000.123 kg,"
        " received 983.092 kg (-17.031 kg, -1.7%)"
    ) in " ".join(text.split())
    clean = run("trace", OTHER, cwd=ledger).stdout
    assert "discrepancies upstream: none" in clean


def test_trace_json_adds_the_discrepancies_and_keeps_every_other_field(ledger: Path) -> None:
    view = json.loads(run("trace", SPLIT, "--json", cwd=ledger).stdout)
    # The lot view (what a bundle claims) comes first, untouched; the discrepancies come last.
    assert list(view)[-1] == "discrepancies"
    assert list(view)[:13] == [
        "lot", "form", "status", "mass_kg", "elements_kg", "oxide_equivalent_kg", "treo_kg",
        "custodian", "facility", "time", "origin", "recycled_share", "path",
    ]  # fmt: skip
    (upstream,) = view["discrepancies"]
    assert upstream == {
        "event_id": "r1", "lot": MINED, "from": "AU-MTWELD", "to": "MY-GEBENG",
        "shipped_kg": SHIPPED, "received_kg": RECEIVED, "delta_kg": -17.031,
        "time": "2025-01-03T00:00:00Z",
    }  # fmt: skip
    assert json.loads(run("trace", OTHER, "--json", cwd=ledger).stdout)["discrepancies"] == []


@pytest.fixture(scope="module")
def signed_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The split lot's evidence bundle from a ledger that requires signatures, and its trust."""
    cwd = tmp_path_factory.mktemp("signed")
    registry = json.loads((FIXTURES / "example_registry.json").read_text())
    for participant in registry["participants"]:
        who = participant["id"]
        made = run("keygen", "--participant", who, "--out", f"{who}.key",
                   "--valid-from", "2024-01-01T00:00:00Z", cwd=cwd)  # fmt: skip
        assert made.returncode == 0, made.stderr
        participant["keys"] = [json.loads(made.stdout)]
    (cwd / "registry.json").write_text(json.dumps(registry))
    (cwd / "e.jsonl").write_text("".join(json.dumps(e) + "\n" for e in _events()))
    signed = run("sign", "e.jsonl", "--key", "lynas-au.key", "--key", "lynas-my.key", cwd=cwd)
    assert signed.returncode == 0, signed.stderr
    (cwd / "signed.jsonl").write_text(signed.stdout)
    steps = [
        ("init",), ("registry", "load", "registry.json"), ("ingest", "signed.jsonl"),
        ("export", SPLIT, "--bundle", "b.json", "--write-trust", "trust.txt"),
    ]  # fmt: skip
    for step in steps:
        done = run(*step, cwd=cwd)
        assert done.returncode == 0, done.stdout + done.stderr
    return cwd


def test_verify_shows_the_discrepancies_upstream_as_information(signed_bundle: Path) -> None:
    done = run("verify", "b.json", "--trust", "trust.txt", cwd=signed_bundle)
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert f"VERIFIED: lot {SPLIT} (concentrate, 983.092 kg, active)" in text
    assert "origin by country (share of the rare-earth element mass in this lot): AU 100.0%" in text
    assert "discrepancies upstream (information, not a failure): 1 receipt(s)" in text
    assert (
        f"receipt r1 of {MINED} at MY-GEBENG (from AU-MTWELD): shipped 1,000.123 kg,"
        " received 983.092 kg (-17.031 kg, -1.7%)"
    ) in text
