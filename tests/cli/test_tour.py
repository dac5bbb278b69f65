"""The demo's tour: it explains its words and ends with commands that work as printed."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from cli_support import run
from raretrace.cli.tour import EVENT_WORDS, STATUS_WORDS

pytestmark = pytest.mark.integration


def test_the_tour_explains_its_terms_and_its_next_commands_run(tmp_path: Path) -> None:
    built = run("demo", "--events", "1500", "--log-dir", "demo-log", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    text = built.stdout
    for kind in ("extract", "ship", "receive", "transform"):
        assert f"  {kind} " in text and EVENT_WORDS[kind] in text, kind
    for status in ("active", "consumed"):
        assert f"  {status} " in text and STATUS_WORDS[status] in text, status
    assert "(shares of the Nd in this lot)" in text
    # A magnet's claimed material, as trace's "claimed" shows it.
    claimed = text.split("Claimed: magnet lot ")[1].split("Leakage flagged")[0]
    assert "  eu-recycled-content: Nd 100.0%, Pr 100.0%" in claimed
    # The magnet under every pack, as of today and as of 2027-02-01, side by side.
    table = text.split("Compliance of magnet lot ")[1].split("Next, try:")[0]
    assert "as of 2027-02-01" in table and "why, as of 2027-02-01:" in table
    for pack in ("cn-mofcom", "us-dfars", "oecd-cahra", "asean-esg", "eu-crma"):
        assert pack in table, pack
    commands = [
        line.strip() for line in text.split("Next, try:")[1].splitlines()
        if line.startswith("  raretrace ")
    ]  # fmt: skip
    names = [c.split()[3] if c.startswith("raretrace --db") else c.split()[1] for c in commands]
    assert names == [
        "trace", "lots", "discrepancies", "export", "verify", "check", "portfolio",
        "verify-credential", "analytics", "analytics", "analytics", "analytics", "audit",
    ]  # fmt: skip
    analytics = [c.split("analytics ")[1].split()[0] for c in commands if " analytics " in c]
    assert analytics == ["flows", "concentration", "scenario", "corridor"]
    for name, command in zip(names, commands, strict=True):  # exactly as printed, where it ran
        done = run(*shlex.split(command)[1:], cwd=tmp_path)
        judged = name in ("check", "portfolio")  # exit code 1 is a `fail` answer, not an error
        assert done.returncode in ((0, 1) if judged else (0,)), (command, done.stdout, done.stderr)
        assert not done.stderr or not judged, done.stderr
    verified = run(*shlex.split(commands[4])[1:], cwd=tmp_path).stdout
    assert verified.startswith("VERIFIED: lot ")
    # The demo council certified a magnet and verified its passport with the evidence.
    certs = text.split("Certificates for magnet lot ")[1].split("Next, try:")[0]
    assert "dpp.jwt: Digital Product Passport urn:uuid:" in certs and "dcc-us-dfars" in certs
    assert "verified offline, with the evidence: valid" in certs
    assert "ok  evidence: bundle " in certs
    checked = run(*shlex.split(commands[7])[1:], cwd=tmp_path).stdout
    assert checked.splitlines()[-1].endswith(" is valid")
    # One analytics chart of each kind and a scenario, beside the demo ledger.
    charts = text.split("Analytics (raretrace analytics")[1].split("Next, try:")[0]
    assert "charts written to raretrace-demo-charts/" in charts
    folder = tmp_path / "raretrace-demo-charts"
    for name in ("flows.html", "concentration.html", "scenario.html", "flows-Dy.html"):
        page = (folder / name).read_text(encoding="utf-8")
        assert page.startswith("<!DOCTYPE html>"), name
        assert "plotly" in page.lower() and "<script src=" not in page, name  # offline
    assert "scattergeo" in (folder / "flows.html").read_text(encoding="utf-8")  # the map
    assert "the most concentrated: " in charts and "above the EU CRMA's 65% limit" in charts
    assert "unmet demand 0.0 t a year at baseline, " in charts and "; worst: " in charts
